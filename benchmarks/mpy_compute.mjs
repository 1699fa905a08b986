// How fast the emulated chip runs MicroPython computing, and exactly what it computed.
//
//   node benchmarks/mpy_compute.mjs BOOTROM FLASH_BIN SORT_VALUES ROUNDS
//
// Boots the official MicroPython firmware (FLASH_BIN: its UF2 laid out as a 2 MiB flash image) on a fresh chip
// (hil/sim/node/rp2040_chip.mjs) with the board process's USB host model, waits for the REPL's `>>> `, then types
// one line that bubble-sorts SORT_VALUES reversed ints (the lesson kernel's algorithm) and prints the sort's
// virtual microseconds. Host input goes in at fixed points of the chip's own progress (when the firmware's output
// arrives) and virtual time is never held back by host time, so everything the chip does is determined by the
// images alone: the printed virtual figures (the sort's microseconds, the virtual time and cycle count at the
// answer, an FNV-1a hash of SRAM and the core registers there) are the same on every run and must stay the same
// whenever the emulator is made faster. Host time (wall clock and this process's CPU time) is measured from
// sending the line to the answer. Each of ROUNDS runs two fresh chips one after the other: one with rp2040js's own
// instruction executor (`reference`, what the chip computed before it had a faster one) and one with the chip's
// fast executor (`fast`). Prints one JSON line.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Rp2040Chip } from '../hil/sim/node/rp2040_chip.mjs';
import { UsbCdcHost } from '../hil/sim/node/usb_cdc_host.mjs';

const HOST_SLICE_MS = 1000;
const FAR_AHEAD_NS = 3600e9; // a virtual limit never reached: sleeping cores skip straight to their next event
const PROMPT = '>>> ';
const ANSWER = /us=(\d+)/;
const ROUND_HOST_LIMIT_MS = 600_000; // a host-side deadline per round: nothing may hang

const [bootromPath, flashPath, sortValuesText, roundsText] = process.argv.slice(2);
const bootrom = new Uint8Array(fs.readFileSync(bootromPath));
const flashImage = new Uint8Array(fs.readFileSync(flashPath));
const sortValues = Number(sortValuesText);
const rounds = Number(roundsText);

// One REPL line (exec of a source string, so no auto-indent gets in the way).
const SOURCE = [
  'import time',
  'def bubble_sort(values):',
  ' n = len(values)',
  ' for done in range(n - 1):',
  '  for j in range(n - 1 - done):',
  '   if values[j] > values[j + 1]:',
  '    values[j], values[j + 1] = values[j + 1], values[j]',
  `values = list(range(${sortValues}, 0, -1))`,
  'start = time.ticks_us()',
  'bubble_sort(values)',
  'elapsed = time.ticks_diff(time.ticks_us(), start)',
  "print('sorted=%d us=%d' % (values == sorted(values), elapsed))",
].join('\\n');
const LINE = `exec("${SOURCE}")\r`;

function fnv1a(bytes, hash = 0x811c9dc5) {
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  return hash;
}

function stateHash(chip) {
  const core = chip.core0;
  const flags = [core.N, core.Z, core.C, core.V].map(Number);
  let hash = fnv1a(chip.mcu.sram);
  hash = fnv1a(new Uint8Array(core.registers.buffer), hash);
  hash = fnv1a(Uint8Array.from(flags), hash);
  return hash.toString(16).padStart(8, '0');
}

function round(fastExecutor) {
  const flash = new Uint8Array(flashImage.length);
  flash.set(flashImage);
  const chip = new Rp2040Chip({
    bootrom, flash, uniqueId: new Uint8Array(8), log() {}, onFlashChange() {}, onReset() {}, uart: null,
    fastExecutor,
  });
  chip.mcu.logger = { debug() {}, info() {}, warn() {}, error() {} };
  let output = '';
  let phase = 'boot';
  let sentAtMs = 0;
  let sentCpu = null;
  let answer = null;
  const host = new UsbCdcHost(chip.mcu.usbCtrl, {
    onData(bytes) {
      output += Buffer.from(bytes).toString('latin1');
      if (phase === 'boot' && output.endsWith(PROMPT)) {
        phase = 'compute';
        output = '';
        sentAtMs = performance.now();
        sentCpu = process.cpuUsage();
        host.send(Buffer.from(LINE, 'latin1'));
      } else if (phase === 'compute' && ANSWER.test(output) && output.endsWith(PROMPT)) {
        phase = 'done';
        const cpu = process.cpuUsage(sentCpu);
        answer = {
          host_ms: performance.now() - sentAtMs,
          cpu_ms: (cpu.user + cpu.system) / 1000,
          sort_us: Number(ANSWER.exec(output)[1]),
          sorted: /sorted=1/.test(output),
          virtual_ns: Math.round(chip.virtualNanos),
          cycles: chip.core0.cycles,
          state: stateHash(chip),
        };
      }
    },
    onConfigured() {},
    onNoSerialPort() { throw new Error('the firmware presented no CDC serial port'); },
  });
  host.send(Buffer.from('\r'));
  const started = performance.now();
  while (phase !== 'done') {
    if (performance.now() - started > ROUND_HOST_LIMIT_MS) {
      throw new Error(`no answer within ${ROUND_HOST_LIMIT_MS} ms of host time (phase ${phase}): ` +
        output.slice(-200));
    }
    const result = chip.run(performance.now() + HOST_SLICE_MS, chip.virtualNanos + FAR_AHEAD_NS,
      () => performance.now());
    if (result.halt) throw new Error(`the chip halted: ${JSON.stringify(result.halt)}`);
    if (result.reset) throw new Error(`the chip reset itself (${result.reset})`);
    if (phase !== 'done' && result.idle && result.wakeAtNs === null) {
      throw new Error(`the chip went to sleep for good (phase ${phase})`);
    }
  }
  return answer;
}

const reference = [];
const fast = [];
for (let i = 0; i < rounds; i++) {
  reference.push(round(false));
  fast.push(round(true));
}
process.stdout.write(JSON.stringify({ sort_values: sortValues, reference, fast }) + '\n');
