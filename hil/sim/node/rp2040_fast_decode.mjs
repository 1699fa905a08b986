// A faster executor in front of rp2040js's, with the same effects.
//
// rp2040js 1.4.1 fetches every instruction through its memory map (core.readUint16 -> rp2040.readUint16 -> range
// checks -> DataView), decodes it by walking one long if/else chain in mnemonic order, and sends every load and
// store through the same generic bus path. This executor, installed on one core object (plain rp2040js stays as
// it is), does the same work directly:
//
// - fetch: instructions in SRAM, flash (the 0x10000000 XIP alias) and the bootrom are read from typed-array views
//   of the very arrays rp2040js reads (so a flash program/erase, a store into SRAM code or a bootrom write is seen
//   by the next fetch: nothing is cached);
// - decode: a switch on the top five opcode bits, then the few bits that tell the encodings of that group apart;
// - loads and stores: aligned accesses to SRAM (and loads from flash and the bootrom) go to typed arrays, which is
//   what rp2040js ends up doing for them; every other access (peripherals, USB DPRAM, XIP SRAM, unaligned ones
//   that rp2040js reports as faults) goes through the core's own bus methods, unchanged;
// - the run loop: `core.runBatch` runs a batch of one core's instructions with the clock's advance after each, so
//   the chip's loop makes one call per batch, not one per instruction.
//
// The executor's functions are shared by every core of every chip (its state is an argument, one class of object):
// optimized code then survives a chip reset or core 1's launch instead of being thrown away for new closures.
//
// Every instruction's effects are rp2040js's own, quirks included: registers, flags, the PC as rp2040js keeps it
// (an exception entry leaves the Thumb bit set in it until a BX/POP/MOV to PC clears it, and PC-relative reads
// see that bit), the order of bus accesses, and cycle counts. What is rare or has effects beyond registers and
// memory (exception checks when `interruptsUpdated`, CPS, MRS/MSR, barriers, SVC, BKPT/UDF, WFI/WFE/SEV/YIELD,
// unimplemented encodings) is handed to rp2040js's executeInstruction with the core untouched.
// tests/sim_rust/test_fast_decode.py checks the equivalence instruction by instruction against rp2040js.

const RAM_BASE = 0x20000000;
const FLASH_BASE = 0x10000000;
const SIO_REGION = 0xd; // address >>> 28: SIO, no wait state in rp2040js's cycle model
const APB_REGION = 0x4; // address >>> 28: APB peripherals, 3 cycles to read, 4 to write
// how many of the low nine bits are set (PUSH/POP register lists)
const BIT_COUNT = Uint8Array.from({ length: 512 }, (_, bits) => {
  let count = 0;
  for (let b = bits; b; b >>= 1) count += b & 1;
  return count;
});

/** What the executor needs of one core, in one shape for every core. */
class FastExecutor {
  constructor(core) {
    const mcu = core.rp2040;
    const { sram, flash, bootrom } = mcu;
    if (sram.byteOffset % 4 !== 0 || flash.byteOffset % 4 !== 0) {
      throw new Error('SRAM and flash must be word aligned');
    }
    this.core = core;
    this.slow = Object.getPrototypeOf(core).executeInstruction; // rp2040js's own
    this.regs = core.registers;
    this.clock = mcu.clock;
    this.sram = sram;
    this.sram16 = new Uint16Array(sram.buffer, sram.byteOffset, sram.length >>> 1);
    this.sram32 = new Uint32Array(sram.buffer, sram.byteOffset, sram.length >>> 2);
    this.flash = flash;
    this.flash16 = new Uint16Array(flash.buffer, flash.byteOffset, flash.length >>> 1);
    this.flash32 = new Uint32Array(flash.buffer, flash.byteOffset, flash.length >>> 2);
    this.bootrom32 = bootrom;
    this.bootrom16 = new Uint16Array(bootrom.buffer, bootrom.byteOffset, bootrom.length * 2);
    this.sramBytes = sram.length;
    this.flashBytes = flash.length;
    this.bootromBytes = bootrom.length * 4;
  }
}

// The bus. `address` may be a register sum past 2^32: rp2040js wraps it (directly or through its fall-back to
// readUint32) before it reaches SRAM, flash or the bootrom, so these wrap it too.
function fetch16(x, address) {
  const { flash16, sram16, bootrom16, flashBytes, sramBytes, bootromBytes } = x;
  const a = address >>> 0;
  const fl = (a - FLASH_BASE) >>> 0;
  if (fl < flashBytes) return flash16[fl >>> 1];
  const ram = (a - RAM_BASE) >>> 0;
  if (ram < sramBytes) return sram16[ram >>> 1];
  if (a < bootromBytes) return bootrom16[a >>> 1];
  return x.core.readUint16(address);
}

function read32(x, address) {
  const { sram32, flash32, bootrom32, sramBytes, flashBytes, bootromBytes } = x;
  if ((address & 3) === 0) {
    const a = address >>> 0;
    const ram = (a - RAM_BASE) >>> 0;
    if (ram < sramBytes) return sram32[ram >>> 2];
    const fl = (a - FLASH_BASE) >>> 0;
    if (fl < flashBytes) return flash32[fl >>> 2];
    if (a < bootromBytes) return bootrom32[a >>> 2];
  }
  return x.core.readUint32(address);
}

function read16(x, address) {
  const { sram16, flash16, sramBytes, flashBytes } = x;
  if ((address & 1) === 0) {
    const a = address >>> 0;
    const ram = (a - RAM_BASE) >>> 0;
    if (ram < sramBytes) return sram16[ram >>> 1];
    const fl = (a - FLASH_BASE) >>> 0;
    if (fl < flashBytes) return flash16[fl >>> 1];
  }
  return x.core.readUint16(address);
}

function read8(x, address) {
  const { sram, flash, sramBytes, flashBytes } = x;
  const a = address >>> 0;
  const ram = (a - RAM_BASE) >>> 0;
  if (ram < sramBytes) return sram[ram];
  const fl = (a - FLASH_BASE) >>> 0;
  if (fl < flashBytes) return flash[fl];
  return x.core.readUint8(address);
}

// Stores: only SRAM is direct (a store elsewhere may have effects; the chip's own writeUint32 sends SRAM
// stores to the same array).
function write32(x, address, value) {
  const { sram32, sramBytes } = x;
  if ((address & 3) === 0) {
    const ram = ((address >>> 0) - RAM_BASE) >>> 0;
    if (ram < sramBytes) {
      sram32[ram >>> 2] = value;
      return;
    }
  }
  x.core.writeUint32(address, value);
}

function write16(x, address, value) {
  const { sram16, sramBytes } = x;
  if ((address & 1) === 0) {
    const ram = ((address >>> 0) - RAM_BASE) >>> 0;
    if (ram < sramBytes) {
      sram16[ram >>> 1] = value;
      return;
    }
  }
  x.core.writeUint16(address, value);
}

function write8(x, address, value) {
  const { sram, sramBytes } = x;
  const ram = ((address >>> 0) - RAM_BASE) >>> 0;
  if (ram < sramBytes) {
    sram[ram] = value;
    return;
  }
  x.core.writeUint8(address, value);
}

// rp2040js's cyclesIO
function ioCycles(address, write) {
  const region = address >>> 28;
  if (region === SIO_REGION) return 0;
  if (region === APB_REGION) return write ? 4 : 3;
  return 1;
}

// rp2040js's substractUpdateFlags / addUpdateFlags
function sub(core, minuend, subtrahend) {
  const result = minuend - subtrahend;
  core.N = !!(result & 0x80000000);
  core.Z = (result & 0xffffffff) === 0;
  core.C = minuend >= subtrahend;
  // rp2040js's (r && !m && s) || (!r && m && !s) on the sign bits, without its branches
  core.V = ((minuend ^ subtrahend) & (minuend ^ result) & 0x80000000) !== 0;
  return result;
}

function add(core, addend1, addend2) {
  const unsignedSum = (addend1 + addend2) >>> 0;
  const signedSum = (addend1 | 0) + (addend2 | 0);
  const result = addend1 + addend2;
  core.N = !!(result & 0x80000000);
  core.Z = (result & 0xffffffff) === 0;
  core.C = result !== unsignedSum;
  core.V = (result | 0) !== signedSum;
  return result & 0xffffffff;
}

// rp2040js's checkCondition, for conditions 0..13
function condition(core, cond) {
  let result;
  switch (cond >> 1) {
    case 0: result = core.Z; break;
    case 1: result = core.C; break;
    case 2: result = core.N; break;
    case 3: result = core.V; break;
    case 4: result = core.C && !core.Z; break;
    case 5: result = core.N === core.V; break;
    default: result = core.N === core.V && !core.Z; break;
  }
  return cond & 1 ? !result : result;
}

// One data-processing instruction on low registers (0x4000-0x43ff).
function dataProcessing(x, opcode) {
  const { core, regs } = x;
  const Rm = (opcode >> 3) & 0x7;
  const Rdn = opcode & 0x7;
  switch ((opcode >> 6) & 0xf) {
    case 0x0: { // ANDS
      const result = regs[Rdn] & regs[Rm];
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      break;
    }
    case 0x1: { // EORS
      const result = regs[Rm] ^ regs[Rdn];
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      break;
    }
    case 0x2: { // LSLS (register)
      const input = regs[Rdn];
      const shiftCount = regs[Rm] & 0xff;
      const result = shiftCount >= 32 ? 0 : input << shiftCount;
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      core.C = shiftCount ? !!(input & (1 << (32 - shiftCount))) : core.C;
      break;
    }
    case 0x3: { // LSRS (register)
      const shiftAmount = regs[Rm] & 0xff;
      const input = regs[Rdn];
      const result = shiftAmount < 32 ? input >>> shiftAmount : 0;
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      core.C = shiftAmount <= 32 ? !!((input >>> (shiftAmount - 1)) & 0x1) : false;
      break;
    }
    case 0x4: { // ASRS (register)
      const input = regs[Rdn];
      const shiftN = (regs[Rm] & 0xff) < 32 ? regs[Rm] & 0xff : 32;
      const result = shiftN < 32 ? input >> shiftN : (input & 0x80000000) >> 31;
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      core.C = !!(input & (1 << (shiftN - 1)));
      break;
    }
    case 0x5: // ADCS
      regs[Rdn] = add(core, regs[Rm], regs[Rdn] + (core.C ? 1 : 0));
      break;
    case 0x6: // SBCS
      regs[Rdn] = sub(core, regs[Rdn], regs[Rm] + (1 - (core.C ? 1 : 0)));
      break;
    case 0x7: { // RORS
      const input = regs[Rdn];
      const shift = (regs[Rm] & 0xff) % 32;
      const result = (input >>> shift) | (input << (32 - shift));
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      core.C = !!(result & 0x80000000);
      break;
    }
    case 0x8: { // TST
      const result = regs[Rdn] & regs[Rm];
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      break;
    }
    case 0x9: // RSBS (NEGS)
      regs[Rdn] = sub(core, 0, regs[Rm]);
      break;
    case 0xa: // CMP (register)
      sub(core, regs[Rdn], regs[Rm]);
      break;
    case 0xb: // CMN
      add(core, regs[Rdn], regs[Rm]);
      break;
    case 0xc: { // ORRS
      const result = regs[Rdn] | regs[Rm];
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      break;
    }
    case 0xd: { // MULS
      const result = Math.imul(regs[Rm], regs[Rdn]);
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      break;
    }
    case 0xe: { // BICS
      const result = regs[Rdn] & ~regs[Rm];
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      break;
    }
    default: { // MVNS
      const result = ~regs[Rm];
      regs[Rdn] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      break;
    }
  }
}

// Returns the instruction's cycles, or -1 to hand it to rp2040js (nothing has been changed then but PC, which
// the caller restores).
function execute(x, pc, opcode) {
  const { core, regs } = x;
  let cycles = 1;
  switch (opcode >> 11) {
    case 0b00000: { // LSLS (immediate); imm5 = 0 is MOVS (register)
      const imm5 = (opcode >> 6) & 0x1f;
      const input = regs[(opcode >> 3) & 0x7];
      const result = input << imm5;
      regs[opcode & 0x7] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      core.C = imm5 ? !!(input & (1 << (32 - imm5))) : core.C;
      break;
    }
    case 0b00001: { // LSRS (immediate)
      const imm5 = (opcode >> 6) & 0x1f;
      const input = regs[(opcode >> 3) & 0x7];
      const result = imm5 ? input >>> imm5 : 0;
      regs[opcode & 0x7] = result;
      core.N = !!(result & 0x80000000);
      core.Z = result === 0;
      core.C = !!((input >>> (imm5 ? imm5 - 1 : 31)) & 0x1);
      break;
    }
    case 0b00010: { // ASRS (immediate)
      const imm5 = (opcode >> 6) & 0x1f;
      const input = regs[(opcode >> 3) & 0x7];
      const shiftN = imm5 ? imm5 : 32;
      const result = shiftN < 32 ? input >> shiftN : (input & 0x80000000) >> 31;
      regs[opcode & 0x7] = result;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      core.C = !!(input & (1 << (shiftN - 1)));
      break;
    }
    case 0b00011: { // ADDS/SUBS register or 3-bit immediate
      const Rd = opcode & 0x7;
      const Rn = (opcode >> 3) & 0x7;
      const field = (opcode >> 6) & 0x7;
      switch ((opcode >> 9) & 0x3) {
        case 0: regs[Rd] = add(core, regs[Rn], regs[field]); break;
        case 1: regs[Rd] = sub(core, regs[Rn], regs[field]); break;
        case 2: regs[Rd] = add(core, regs[Rn], field); break;
        default: regs[Rd] = sub(core, regs[Rn], field); break;
      }
      break;
    }
    case 0b00100: { // MOVS (immediate)
      const value = opcode & 0xff;
      regs[(opcode >> 8) & 7] = value;
      core.N = false;
      core.Z = value === 0;
      break;
    }
    case 0b00101: { // CMP (immediate): sub(core, ) inline, the commonest flag-setting instruction
      const minuend = regs[(opcode >> 8) & 0x7];
      const subtrahend = opcode & 0xff;
      const result = minuend - subtrahend;
      core.N = !!(result & 0x80000000);
      core.Z = (result & 0xffffffff) === 0;
      core.C = minuend >= subtrahend;
      core.V = ((minuend ^ subtrahend) & (minuend ^ result) & 0x80000000) !== 0;
      break;
    }
    case 0b00110: { // ADDS (8-bit immediate)
      const Rdn = (opcode >> 8) & 0x7;
      regs[Rdn] = add(core, regs[Rdn], opcode & 0xff);
      break;
    }
    case 0b00111: { // SUBS (8-bit immediate)
      const Rdn = (opcode >> 8) & 0x7;
      regs[Rdn] = sub(core, regs[Rdn], opcode & 0xff);
      break;
    }
    case 0b01000: {
      if (opcode >> 10 === 0b010000) {
        dataProcessing(x, opcode);
        break;
      }
      const Rm = (opcode >> 3) & 0xf;
      const Rdn = ((opcode >> 4) & 0x8) | (opcode & 0x7);
      switch ((opcode >> 8) & 0x3) {
        case 0: { // ADD (register), any registers
          const leftValue = Rdn === 15 ? regs[15] + 2 : regs[Rdn];
          const rightValue = Rm === 15 ? regs[15] + 2 : regs[Rm];
          const result = leftValue + rightValue;
          if (Rdn !== 13 && Rdn !== 15) {
            regs[Rdn] = result;
          } else if (Rdn === 15) {
            regs[15] = result & ~0x1;
            cycles++;
          } else {
            regs[13] = result & ~0x3;
          }
          break;
        }
        case 1: // CMP (register), any registers (PC reads as this instruction's address + 2, as in rp2040js)
          sub(core, regs[Rdn], regs[Rm]);
          break;
        case 2: { // MOV (register)
          let value = Rm === 15 ? regs[15] + 2 : regs[Rm];
          if (Rdn === 15) {
            cycles++;
            value &= ~1;
          } else if (Rdn === 13) {
            value &= ~3;
          }
          regs[Rdn] = value;
          break;
        }
        default:
          if ((opcode & 0x7) !== 0) return -1;
          if (opcode & 0x80) { // BLX
            regs[14] = (pc + 2) | 0x1;
            regs[15] = regs[Rm] & ~1;
            cycles++;
            core.blTaken(core, true);
          } else { // BX
            core.BXWritePC(regs[Rm]);
            cycles++;
          }
      }
      break;
    }
    case 0b01001: { // LDR (literal)
      const address = ((pc + 4) & 0xfffffffc) + ((opcode & 0xff) << 2);
      const fl = (address - FLASH_BASE) >>> 0;
      if (fl < x.flashBytes) { // the commonest case inline: a literal pool in flash (one wait cycle)
        cycles++;
        regs[(opcode >> 8) & 7] = x.flash32[fl >>> 2];
      } else {
        cycles += ioCycles(address, false);
        regs[(opcode >> 8) & 7] = read32(x, address);
      }
      break;
    }
    case 0b01010:
    case 0b01011: { // load/store with register offset
      const address = regs[(opcode >> 6) & 0x7] + regs[(opcode >> 3) & 0x7];
      const Rt = opcode & 0x7;
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes) { // inline: SRAM, one wait cycle (words and halfwords aligned only)
        switch ((opcode >> 9) & 0x7) {
          case 0: // STR
            if (ram & 3) break;
            x.sram32[ram >>> 2] = regs[Rt];
            return cycles + 1;
          case 2: // STRB
            x.sram[ram] = regs[Rt];
            return cycles + 1;
          case 4: // LDR
            if (ram & 3) break;
            regs[Rt] = x.sram32[ram >>> 2];
            return cycles + 1;
          case 6: // LDRB
            regs[Rt] = x.sram[ram];
            return cycles + 1;
          default:
            break;
        }
      }
      switch ((opcode >> 9) & 0x7) {
        case 0: // STR
          cycles += ioCycles(address, true);
          write32(x, address, regs[Rt]);
          break;
        case 1: // STRH
          cycles += ioCycles(address, true);
          write16(x, address, regs[Rt]);
          break;
        case 2: // STRB
          cycles += ioCycles(address, true);
          write8(x, address, regs[Rt]);
          break;
        case 3: // LDRSB
          cycles += ioCycles(address, false);
          regs[Rt] = (read8(x, address) << 24) >> 24;
          break;
        case 4: // LDR
          cycles += ioCycles(address, false);
          regs[Rt] = read32(x, address);
          break;
        case 5: // LDRH
          cycles += ioCycles(address, false);
          regs[Rt] = read16(x, address);
          break;
        case 6: // LDRB
          cycles += ioCycles(address, false);
          regs[Rt] = read8(x, address);
          break;
        default: // LDRSH
          cycles += ioCycles(address, false);
          regs[Rt] = (read16(x, address) << 16) >> 16;
          break;
      }
      break;
    }
    case 0b01100: { // STR (immediate)
      const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 2);
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes && (ram & 3) === 0) { // inline: aligned SRAM (one wait cycle)
        cycles++;
        x.sram32[ram >>> 2] = regs[opcode & 0x7];
      } else {
        cycles += ioCycles(address, true);
        write32(x, address, regs[opcode & 0x7]);
      }
      break;
    }
    case 0b01101: { // LDR (immediate)
      const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 2);
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes && (ram & 3) === 0) {
        cycles++;
        regs[opcode & 0x7] = x.sram32[ram >>> 2];
      } else {
        cycles += ioCycles(address, false);
        regs[opcode & 0x7] = read32(x, address);
      }
      break;
    }
    case 0b01110: { // STRB (immediate)
      const address = regs[(opcode >> 3) & 0x7] + ((opcode >> 6) & 0x1f);
      cycles += ioCycles(address, true);
      write8(x, address, regs[opcode & 0x7]);
      break;
    }
    case 0b01111: { // LDRB (immediate)
      const address = regs[(opcode >> 3) & 0x7] + ((opcode >> 6) & 0x1f);
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes) {
        cycles++;
        regs[opcode & 0x7] = x.sram[ram];
      } else {
        cycles += ioCycles(address, false);
        regs[opcode & 0x7] = read8(x, address);
      }
      break;
    }
    case 0b10000: { // STRH (immediate)
      const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 1);
      cycles += ioCycles(address, true);
      write16(x, address, regs[opcode & 0x7]);
      break;
    }
    case 0b10001: { // LDRH (immediate)
      const address = regs[(opcode >> 3) & 0x7] + (((opcode >> 6) & 0x1f) << 1);
      cycles += ioCycles(address, false);
      regs[opcode & 0x7] = read16(x, address);
      break;
    }
    case 0b10010: { // STR (SP plus immediate)
      const address = regs[13] + ((opcode & 0xff) << 2);
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes && (ram & 3) === 0) {
        cycles++;
        x.sram32[ram >>> 2] = regs[(opcode >> 8) & 0x7];
      } else {
        cycles += ioCycles(address, true);
        write32(x, address, regs[(opcode >> 8) & 0x7]);
      }
      break;
    }
    case 0b10011: { // LDR (SP plus immediate)
      const address = regs[13] + ((opcode & 0xff) << 2);
      const ram = (address - RAM_BASE) >>> 0;
      if (ram < x.sramBytes && (ram & 3) === 0) {
        cycles++;
        regs[(opcode >> 8) & 0x7] = x.sram32[ram >>> 2];
      } else {
        cycles += ioCycles(address, false);
        regs[(opcode >> 8) & 0x7] = read32(x, address);
      }
      break;
    }
    case 0b10100: // ADR
      regs[(opcode >> 8) & 0x7] = ((pc & ~1) & 0xfffffffc) + 4 + ((opcode & 0xff) << 2);
      break;
    case 0b10101: // ADD (SP plus immediate) to a register
      regs[(opcode >> 8) & 0x7] = regs[13] + ((opcode & 0xff) << 2);
      break;
    case 0b10110: {
      switch ((opcode >> 8) & 0x7) {
        case 0: { // ADD/SUB SP, SP, #imm
          const imm = (opcode & 0x7f) << 2;
          regs[13] = (opcode & 0x80 ? regs[13] - imm : regs[13] + imm) & ~0x3;
          break;
        }
        case 2: { // SXTH, SXTB, UXTH, UXTB
          const input = regs[(opcode >> 3) & 0x7];
          const Rd = opcode & 0x7;
          switch ((opcode >> 6) & 0x3) {
            case 0: regs[Rd] = (input << 16) >> 16; break;
            case 1: regs[Rd] = (input << 24) >> 24; break;
            case 2: regs[Rd] = input & 0xffff; break;
            default: regs[Rd] = input & 0xff; break;
          }
          break;
        }
        case 4:
        case 5: { // PUSH (rp2040js counts a cycle per low register, none for LR)
          const count = BIT_COUNT[opcode & 0x1ff];
          let address = regs[13] - 4 * count;
          const ram = (address - RAM_BASE) >>> 0;
          if (ram + 4 * count <= x.sramBytes && (ram & 3) === 0) { // inline: the whole frame in SRAM
            let word = ram >>> 2;
            for (let i = 0; i <= 7; i++) {
              if (opcode & (1 << i)) {
                x.sram32[word++] = regs[i];
                cycles++;
              }
            }
            if (opcode & 0x100) x.sram32[word] = regs[14];
          } else {
            for (let i = 0; i <= 7; i++) {
              if (opcode & (1 << i)) {
                write32(x, address, regs[i]);
                cycles++;
                address += 4;
              }
            }
            if (opcode & 0x100) write32(x, address, regs[14]);
          }
          regs[13] = (regs[13] - 4 * count) & ~0x3;
          break;
        }
        default: // CPSID/CPSIE and unallocated encodings
          return -1;
      }
      break;
    }
    case 0b10111: {
      switch ((opcode >> 8) & 0x7) {
        case 2: { // REV, REV16, REVSH
          const input = regs[(opcode >> 3) & 0x7];
          const Rd = opcode & 0x7;
          switch ((opcode >> 6) & 0x3) {
            case 0:
              regs[Rd] = ((input & 0xff) << 24) | (((input >> 8) & 0xff) << 16) | (((input >> 16) & 0xff) << 8) |
                ((input >> 24) & 0xff);
              break;
            case 1:
              regs[Rd] = (((input >> 16) & 0xff) << 24) | (((input >> 24) & 0xff) << 16) | ((input & 0xff) << 8) |
                ((input >> 8) & 0xff);
              break;
            case 3:
              regs[Rd] = ((((input & 0xff) << 8) | ((input >> 8) & 0xff)) << 16) >> 16;
              break;
            default:
              return -1;
          }
          break;
        }
        case 4:
        case 5: { // POP; a PC in the list goes through BXWritePC (exception return)
          let address = regs[13];
          const ram = (address - RAM_BASE) >>> 0;
          if (ram + 4 * BIT_COUNT[opcode & 0xff] <= x.sramBytes && (ram & 3) === 0) { // inline: all in SRAM
            let word = ram >>> 2;
            for (let i = 0; i <= 7; i++) {
              if (opcode & (1 << i)) {
                regs[i] = x.sram32[word++];
                cycles++;
              }
            }
            address += (word << 2) - ram;
          } else {
            for (let i = 0; i <= 7; i++) {
              if (opcode & (1 << i)) {
                regs[i] = read32(x, address);
                address += 4;
                cycles++;
              }
            }
          }
          if (opcode & 0x100) {
            regs[13] = (address + 4) & ~0x3;
            core.BXWritePC(read32(x, address));
            cycles += 2;
          } else {
            regs[13] = address & ~0x3;
          }
          break;
        }
        case 7: // NOP; the other hints (WFE, WFI, SEV, YIELD) and BKPT are rp2040js's
          if (opcode !== 0xbf00) return -1;
          break;
        default:
          return -1;
      }
      break;
    }
    case 0b11000: { // STMIA
      const Rn = (opcode >> 8) & 0x7;
      let address = regs[Rn];
      for (let i = 0; i < 8; i++) {
        if (opcode & (1 << i)) {
          write32(x, address, regs[i]);
          address += 4;
          cycles++;
        }
      }
      if (!(opcode & (1 << Rn))) regs[Rn] = address;
      break;
    }
    case 0b11001: { // LDMIA
      const Rn = (opcode >> 8) & 0x7;
      let address = regs[Rn];
      for (let i = 0; i < 8; i++) {
        if (opcode & (1 << i)) {
          regs[i] = read32(x, address);
          address += 4;
          cycles++;
        }
      }
      if (!(opcode & (1 << Rn))) regs[Rn] = address;
      break;
    }
    case 0b11010:
    case 0b11011: { // B<cond>; condition 0b1110 is UDF, 0b1111 is SVC: rp2040js's
      const cond = (opcode >> 8) & 0xf;
      if (cond >= 0b1110) return -1;
      if (condition(core, cond)) {
        let imm9 = (opcode & 0xff) << 1;
        if (imm9 & 0x100) imm9 -= 0x200;
        regs[15] = pc + 4 + imm9;
        cycles++;
      }
      break;
    }
    case 0b11100: { // B
      let imm12 = (opcode & 0x7ff) << 1;
      if (imm12 & 0x800) imm12 -= 0x1000;
      regs[15] = pc + 4 + imm12;
      cycles++;
      break;
    }
    case 0b11110: { // BL; MRS, MSR, barriers and UDF.W are rp2040js's
      const opcode2 = fetch16(x, (pc & ~1) + 2);
      if (opcode2 >> 14 !== 0b11 || ((opcode2 >> 12) & 0x1) !== 1) return -1;
      const S = (opcode >> 10) & 0x1;
      const I1 = 1 - (S ^ ((opcode2 >> 13) & 0x1));
      const I2 = 1 - (S ^ ((opcode2 >> 11) & 0x1));
      const imm32 = ((S ? 0b11111111 : 0) << 24) |
        ((I1 << 23) | (I2 << 22) | ((opcode & 0x3ff) << 12) | ((opcode2 & 0x7ff) << 1));
      regs[14] = (pc + 4) | 0x1;
      regs[15] = pc + 4 + imm32;
      cycles += 2;
      core.blTaken(core, false);
      break;
    }
    default: // 32-bit encodings other than BL
      return -1;
  }
  return cycles;
}

function step(x) {
  const { core, regs } = x;
  if (core.interruptsUpdated) return x.slow.call(core);
  const pc = regs[15];
  const opcode = fetch16(x, pc & ~1);
  regs[15] = pc + 2; // as rp2040js: the instruction sees PC already advanced
  const cycles = execute(x, pc, opcode);
  if (cycles < 0) {
    regs[15] = pc;
    return x.slow.call(core);
  }
  core.cycles += cycles;
  return cycles;
}

// Installed as the core's executeInstruction: one function object for every core.
function fastExecuteInstruction() {
  return step(this.fastExecutor);
}

/**
 * Installed as the core's runBatch: up to `limit` instructions of this core alone, each followed by the clock's
 * advance by its cycles × `cycleNanos` (alarms due by then fire, through `clock.tick`), exactly as one
 * executeInstruction and one tick per instruction would do. Stops early after an instruction that leaves the core
 * asleep, leaves PC where it was (a halt candidate), or sets `chip.pendingReset` or `chip.detector.pending`: the
 * caller looks at those. Returns how many instructions ran; `core.lastPc` is where the last one started.
 */
function runBatch(limit, cycleNanos, chip) {
  const x = this.fastExecutor;
  const { core, regs, clock } = x;
  const { detector } = chip;
  let executed = 0;
  let pc = regs[15];
  while (executed < limit) {
    pc = regs[15];
    const cycles = step(x);
    const deltaNanos = cycles * cycleNanos;
    const alarm = clock.nextAlarm;
    if (alarm !== null && alarm.nanos <= clock.nanosCounter + deltaNanos) clock.tick(deltaNanos);
    else clock.nanosCounter += deltaNanos;
    executed++;
    if (regs[15] === pc || core.waiting || detector.pending || chip.pendingReset) break;
  }
  core.lastPc = pc;
  return executed;
}

/** Give one rp2040js core (not its class: plain rp2040js stays as it is) the fast executor. */
export function installFastDecode(core) {
  core.fastExecutor = new FastExecutor(core);
  core.lastPc = core.registers[15];
  core.executeInstruction = fastExecuteInstruction;
  core.runBatch = runBatch;
}
