// Differential check of the fast executor (hil/sim/node/rp2040_fast_decode.mjs) against rp2040js's own
// executeInstruction: every 16-bit first halfword, from several random machine states each, is executed once on
// two otherwise identical RP2040s, one per executor, and everything an instruction can change is compared.
//
//   node fast_decode_diff.mjs SEED STATES_PER_OPCODE
//
// Prints one JSON line: {"cases": N, "mismatch_count": M, "sram_agrees": bool, "flash_agrees": bool,
// "mismatches": [...the first few...]}.

import { RP2040 } from '../../hil/sim/node/node_modules/rp2040js/dist/esm/index.js';
import { installFastDecode } from '../../hil/sim/node/rp2040_fast_decode.mjs';

const RAM_BASE = 0x20000000;
const WINDOW = 0x400; // the SRAM the registers point into, refilled before each case
const WINDOW_BASE = RAM_BASE + 0x8000;
const CODE_BASE = RAM_BASE + 0x100; // the instruction under test (in SRAM, so both halfwords are ours)
const FLASH_BASE = 0x10000000;
const MISMATCHES_KEPT = 20;

const [seedText, statesText] = process.argv.slice(2);
// rp2040js's SIO reports unknown registers on the console: stdout carries the result only
console.log = () => {};
console.warn = () => {};
let seed = Number(seedText) >>> 0 || 1;
const statesPerOpcode = Number(statesText);

function random32() { // xorshift32: the same cases on every run with the same seed
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}

function makeMcu(fast) {
  const mcu = new RP2040();
  const events = [];
  mcu.logger = {
    debug() {}, info: (c, m) => events.push(`info ${m}`), warn: (c, m) => events.push(`warn ${m}`),
    error: (c, m) => events.push(`error ${m}`),
  };
  mcu.onBreak = (code) => events.push(`break ${code}`);
  for (let i = 0; i < mcu.flash.length; i += 4) mcu.flashView.setUint32(i, (i * 2654435761) >>> 0, true);
  for (let i = 0; i < mcu.bootrom.length; i++) mcu.bootrom[i] = (i * 40503 + 7) >>> 0;
  const core = mcu.core;
  core.blTaken = (c, blx) => events.push(`bl ${blx}`);
  if (fast) installFastDecode(core);
  return { mcu, core, events };
}

// A register value: mostly addresses the instruction may load from or store to, sometimes anything.
function registerValue() {
  const kind = random32() % 8;
  const r = random32();
  switch (kind) {
    case 0: case 1: case 2: return WINDOW_BASE + (r % (WINDOW - 64)); // any alignment, inside the window
    case 3: return (WINDOW_BASE + (r % (WINDOW - 64))) & ~3;
    case 4: return r % 64;
    case 5: return FLASH_BASE + (r % 0x400);
    case 6: return [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 31, 32, 33][r % 8];
    default: return r;
  }
}

function setState(side, state) {
  const { mcu, core } = side;
  mcu.sram.set(state.window, WINDOW_BASE - RAM_BASE);
  mcu.sramView.setUint16(CODE_BASE - RAM_BASE, state.opcode, true);
  mcu.sramView.setUint16(CODE_BASE - RAM_BASE + 2, state.opcode2, true);
  core.registers.set(state.registers);
  core.N = state.flags[0]; core.Z = state.flags[1]; core.C = state.flags[2]; core.V = state.flags[3];
  core.cycles = 0;
  core.waiting = false;
  core.eventRegistered = false;
  core.interruptsUpdated = false;
  core.PM = false;
  core.IPSR = 0;
  core.currentMode = 0;
  core.SPSEL = 0;
  core.bankedSP = RAM_BASE + 0x20000;
  core.pendingSVCall = false;
  side.events.length = 0;
}

function snapshot(side, cycles) {
  const { core } = side;
  return {
    cycles, coreCycles: core.cycles, registers: Array.from(core.registers),
    flags: [core.N, core.Z, core.C, core.V], PM: core.PM, waiting: core.waiting, IPSR: core.IPSR,
    mode: core.currentMode, bankedSP: core.bankedSP >>> 0, pendingSVCall: core.pendingSVCall,
    breakRewind: core.breakRewind, events: side.events.slice(),
  };
}

function windowOf(side) {
  return side.mcu.sram.subarray(WINDOW_BASE - RAM_BASE, WINDOW_BASE - RAM_BASE + WINDOW);
}

const reference = makeMcu(false);
const fast = makeMcu(true);
let cases = 0;
let mismatchCount = 0;
const mismatches = [];
for (let opcode = 0; opcode < 0x10000; opcode++) {
  for (let s = 0; s < statesPerOpcode; s++) {
    const registers = new Uint32Array(16);
    for (let i = 0; i < 13; i++) registers[i] = registerValue();
    registers[13] = (WINDOW_BASE + 0x100 + (random32() % 0x200)) & ~3; // SP inside the window
    registers[14] = registerValue();
    // PC as rp2040js keeps it: even, or odd after an exception entry (the Thumb bit stays until a branch)
    registers[15] = CODE_BASE + (random32() & 1);
    const window = new Uint8Array(WINDOW);
    for (let i = 0; i < WINDOW; i += 4) new DataView(window.buffer).setUint32(i, random32(), true);
    const flagBits = random32();
    const state = {
      opcode, opcode2: random32() & 0xffff, registers, window,
      flags: [!!(flagBits & 1), !!(flagBits & 2), !!(flagBits & 4), !!(flagBits & 8)],
    };
    setState(reference, state);
    setState(fast, state);
    const expected = snapshot(reference, reference.core.executeInstruction());
    const actual = snapshot(fast, fast.core.executeInstruction());
    cases++;
    if (Buffer.compare(windowOf(reference), windowOf(fast)) !== 0) {
      expected.window = 'reference';
      actual.window = 'differs';
    }
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      mismatchCount++;
      if (mismatches.length < MISMATCHES_KEPT) {
        const differing = Object.keys(expected)
          .filter((k) => JSON.stringify(expected[k]) !== JSON.stringify(actual[k]));
        mismatches.push({
          opcode: opcode.toString(16), opcode2: state.opcode2.toString(16),
          registers: Array.from(registers, (r) => r.toString(16)), differing,
          expected: Object.fromEntries(differing.map((k) => [k, expected[k]])),
          actual: Object.fromEntries(differing.map((k) => [k, actual[k]])),
        });
      }
    }
  }
}
// stores may land anywhere in SRAM or flash: all of both must agree at the end
const sramAgrees = Buffer.compare(reference.mcu.sram, fast.mcu.sram) === 0;
const flashAgrees = Buffer.compare(reference.mcu.flash, fast.mcu.flash) === 0;
process.stdout.write(JSON.stringify({ cases, mismatch_count: mismatchCount, sram_agrees: sramAgrees,
  flash_agrees: flashAgrees, mismatches }) + '\n');
