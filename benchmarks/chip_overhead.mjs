// What the emulated chip's additions (hil/sim/node/rp2040_chip.mjs: bootrom reset path, QSPI flash model, core 1,
// halt detection, time skipping) cost against plain rp2040js, on the same firmware.
//
//   node benchmarks/chip_overhead.mjs BOOTROM FLASH_BIN WINDOW_MS ROUNDS
//
// Both run the same bootrom and the same 2 MiB flash image (a MicroPython UF2 laid out by the caller) from a
// fresh chip for WINDOW_MS of virtual time, ROUNDS times, alternating. Plain rp2040js is driven the way its own
// Simulator drives it (one instruction, then the clock; a sleeping core skips to the next alarm), started at
// 0x10000000 as rp2040js's MicroPython demo starts it. The chip starts from the bootrom's reset vector. The two
// execute largely the same code (boot2, then MicroPython's start-up) but not exactly: plain rp2040js cannot
// program flash. So the figure compared is host time per emulated instruction. Prints one JSON line.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RP2040 } from '../hil/sim/node/node_modules/rp2040js/dist/esm/index.js';
import { Rp2040Chip } from '../hil/sim/node/rp2040_chip.mjs';

const NANOS_PER_MS = 1e6;
const FLASH_BASE = 0x10000000;
// Short: a busy chip (e.g. polling the flash through an erase) runs on for a whole slice past the window
const HOST_SLICE_MS = 2;

const [bootromPath, flashPath, windowMsText, roundsText] = process.argv.slice(2);
const bootrom = new Uint8Array(fs.readFileSync(bootromPath));
const flashImage = new Uint8Array(fs.readFileSync(flashPath));
const windowNs = Number(windowMsText) * NANOS_PER_MS;
const rounds = Number(roundsText);

function plainRound() {
  const mcu = new RP2040();
  mcu.loadBootrom(new Uint32Array(bootrom.buffer, bootrom.byteOffset, bootrom.length / 4));
  mcu.flash.set(flashImage.subarray(0, mcu.flash.length));
  mcu.core.PC = FLASH_BASE;
  mcu.logger = { debug() {}, info() {}, warn() {}, error() {} };
  const { clock, core } = mcu;
  const cycleNanos = 1e9 / mcu.clkSys;
  let instructions = 0;
  const started = performance.now();
  while (clock.nanos < windowNs) {
    if (core.waiting) {
      if (core.interruptsUpdated && core.checkForInterrupts()) core.waiting = false;
      else clock.tick(Math.max(clock.nanosToNextAlarm, cycleNanos));
      continue;
    }
    clock.tick(core.executeInstruction() * cycleNanos);
    instructions++;
  }
  return { instructions, host_ms: performance.now() - started, virtual_ns: clock.nanos };
}

function chipRound() {
  const flash = new Uint8Array(flashImage.length);
  flash.set(flashImage);
  const chip = new Rp2040Chip({
    bootrom, flash, uniqueId: new Uint8Array(8), log() {}, onFlashChange() {}, onReset() {}, uart: null,
  });
  chip.mcu.logger = { debug() {}, info() {}, warn() {}, error() {} };
  let instructions = 0;
  const started = performance.now();
  while (chip.virtualNanos < windowNs) {
    const result = chip.run(performance.now() + HOST_SLICE_MS, windowNs, () => performance.now());
    instructions += result.executed;
    if (result.halt) throw new Error(`the chip halted: ${JSON.stringify(result.halt)}`);
    if (result.reset) break;
    if (result.idle && result.wakeAtNs === null) break; // only host input could wake it: the window is over
  }
  return { instructions, host_ms: performance.now() - started, virtual_ns: chip.virtualNanos };
}

const plain = [];
const chip = [];
for (let i = 0; i < rounds; i++) {
  plain.push(plainRound());
  chip.push(chipRound());
}
process.stdout.write(JSON.stringify({ window_ms: Number(windowMsText), plain, chip }) + '\n');
