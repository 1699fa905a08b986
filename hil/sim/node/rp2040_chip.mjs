// The emulated RP2040 of every simulated Pico: rp2040js plus what a Pico has and rp2040js lacks.
//
// - the bootrom mapped at 0, and the true reset path: core 0 starts at the bootrom's reset vector, which reads
//   boot2 out of flash, checks its CRC and runs it; boot2 sets up XIP and enters the image's vector table;
// - the QSPI flash chip behind the SSI, whose bytes are the caller's array (so they outlive resets and, saved by
//   the board process, process restarts) and are what XIP reads see (rp2040_qspi_flash.mjs);
// - core 1 with its own NVIC, the SIO FIFOs, SEV/WFE between the cores and the bootrom launch handshake
//   (rp2040_core1.mjs);
// - watchdog and AIRCR.SYSRESETREQ resets reported to the owner, which rebuilds the chip around the same flash;
// - halt detection (rp2040_halt_detector.mjs);
// - virtual time skipping while both cores sleep.
//
// An image without a valid boot2 (a debugger-style image whose vector table sits at 0x10000000) is started the
// way a debugger starts it: SP and PC from its vector table. A real Pico would stay in the bootrom's USB boot mode.

import { RP2040 } from 'rp2040js';
import { Rp2040Core1, BOOTROM_CORE1_RETURN } from './rp2040_core1.mjs';
import { HaltDetector } from './rp2040_halt_detector.mjs';
import { findVectorTable, RAM_BASE, BOOT2_SIZE_BYTES } from './rp2040_image.mjs';
import { FLASH_BYTES, IoQspi, SsiFlashPort, W25Q16, XipControl } from './rp2040_qspi_flash.mjs';
import { XipCache } from './rp2040_xip_cache.mjs';
import { installFastDecode } from './rp2040_fast_decode.mjs';

export const BOOTROM_BYTES = 16 * 1024;
const NANOS_PER_SECOND = 1e9;
const SSI_KEY = 0x18000; // rp2040js's peripheral table is keyed by address >> 14 << 2
const XIP_CTRL_KEY = 0x14000;
const XIP_SRAM_KEY = 0x15000;
const IO_QSPI_KEY = 0x40018;
const WATCHDOG_KEY = 0x40058;
const VREG_AND_CHIP_RESET_KEY = 0x40064;
const QSPI_SS_PIN = 1;
const XIP_SRAM_BASE = 0x15000000;
const XIP_SRAM_BYTES = 16 * 1024;
const DPRAM_BASE = 0x50100000;
const DPRAM_BYTES = 4096;
const FLASH_BASE = 0x10000000;
const PPB_AIRCR_OFFSET = 0xd0c;
const AIRCR_VECTKEY = 0x05fa0000;
const AIRCR_SYSRESETREQ = 0x4;
const BATCH_INSTRUCTIONS = 4096; // instructions between host-clock checks
const CORE_LOG = 'CortexM0Core';
const ALARM_STORM_LIMIT = 100_000;

/** CRC-32/MPEG-2, what the bootrom checks boot2's last word against. */
export function crc32Mpeg2(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** Whether flash starts with a boot2 the bootrom accepts (252 bytes, then their CRC). */
export function hasValidBoot2(flash) {
  const view = new DataView(flash.buffer, flash.byteOffset, BOOT2_SIZE_BYTES);
  return crc32Mpeg2(flash.subarray(0, BOOT2_SIZE_BYTES - 4)) === view.getUint32(BOOT2_SIZE_BYTES - 4, true);
}

/** A plain memory block behind rp2040js's peripheral interface (used for XIP SRAM reads). */
class MemoryBlock {
  constructor(view) {
    this.view = view;
  }

  readUint32(offset) {
    return this.view.getUint32(offset & ~3, true);
  }

  writeUint32Atomic() {} // stores are routed to the block before rp2040js's peripheral lookup
}

// VREG_AND_CHIP_RESET: the regulator's reset values, and CHIP_RESET saying the last reset was power-on. Left
// unimplemented, CHIP_RESET reads all ones, PSM_RESTART_FLAG among them, and the bootrom parks core 0 in its
// debugger-rescue WFI loop.
const VREG_DEFAULT = 0xb1;
const BOD_DEFAULT = 0x91;
const CHIP_RESET_HAD_POR = 1 << 8;

class VregAndChipReset {
  /** `powerOn`: the chip came up from power-on (HAD_POR); after a watchdog or system reset neither flag is set. */
  constructor(powerOn) {
    this.regs = [VREG_DEFAULT, BOD_DEFAULT, powerOn ? CHIP_RESET_HAD_POR : 0];
  }

  readUint32(offset) {
    return this.regs[offset >> 2] ?? 0;
  }

  writeUint32(offset, value) {
    if (offset >> 2 < 2) this.regs[offset >> 2] = value >>> 0; // CHIP_RESET's flags are read-only here
  }
}

/** rp2040js calls writeUint32Atomic(offset, value, type) with the SET/CLR/XOR alias in `type`. */
function asPeripheral(model) {
  return {
    readUint32: (offset) => model.readUint32(offset & 0xfff),
    writeUint32Atomic(offset, value, atomicType) {
      let next = value >>> 0;
      if (atomicType === 1) next = model.readUint32(offset) ^ value;
      else if (atomicType === 2) next = model.readUint32(offset) | value;
      else if (atomicType === 3) next = model.readUint32(offset) & ~value;
      model.writeUint32(offset, next >>> 0);
    },
  };
}

export class Rp2040Chip {
  /**
   * `bootrom`: Uint8Array of BOOTROM_BYTES or null (no ROM: images start from their vector table);
   * `flash`: Uint8Array of FLASH_BYTES, kept by the caller; `uniqueId`: 8 bytes (flash unique id);
   * `log(text)`: diagnostics; `onFlashChange()`: after a flash erase/program; `onReset(why)`: the firmware
   * asked for a chip reset (the caller builds a new chip); `uart[0|1](byte)`: bytes the UARTs send;
   * `carry`: what survives a watchdog or system reset (from the previous chip's `carryOver(why)`), null at
   * power-on;
   * `xipCacheModel`: count XIP cache misses as flash wait states;
   * `fastExecutor`: false runs rp2040js's own instruction executor (the reference the fast one must equal).
   */
  constructor({ bootrom, flash, uniqueId, log, onFlashChange, onReset, uart, carry = null, xipCacheModel = false,
    fastExecutor = true }) {
    this.log = log;
    this.onReset = onReset;
    this.pendingReset = null;
    this.stepEnd = null; // set by stepBothCores (here so the object's shape never changes: the run loop reads it)
    const mcu = new RP2040();
    this.mcu = mcu;
    this.detector = new HaltDetector(log);
    if (bootrom) {
      if (bootrom.length !== BOOTROM_BYTES) throw new Error(`bootrom is ${bootrom.length} bytes, not ${BOOTROM_BYTES}`);
      // not loadBootrom(): its reset() would fill rp2040js's own 16 MiB flash once more; startCore0 resets core 0
      mcu.bootrom.set(new Uint32Array(bootrom.buffer.slice(bootrom.byteOffset, bootrom.byteOffset + BOOTROM_BYTES)));
    }
    // the Pico's flash array replaces rp2040js's own
    if (flash.length !== FLASH_BYTES) throw new Error(`flash array must be ${FLASH_BYTES} bytes`);
    mcu.flash = flash;
    mcu.flash16 = new Uint16Array(flash.buffer, flash.byteOffset, flash.length / 2);
    mcu.flashView = new DataView(flash.buffer, flash.byteOffset, flash.length);
    this.flashChip = new W25Q16(flash, uniqueId, onFlashChange, () => mcu.clock.nanos);
    const ssi = new SsiFlashPort(this.flashChip);
    this.xipCache = xipCacheModel ? new XipCache() : null;
    mcu.peripherals[SSI_KEY] = asPeripheral(ssi);
    mcu.peripherals[IO_QSPI_KEY] = asPeripheral(new IoQspi(ssi));
    mcu.peripherals[XIP_CTRL_KEY] = asPeripheral(new XipControl(this.xipCache));
    mcu.peripherals[VREG_AND_CHIP_RESET_KEY] = asPeripheral(new VregAndChipReset(carry === null));
    this.xipSram = new Uint8Array(XIP_SRAM_BYTES);
    const xipSramView = new DataView(this.xipSram.buffer);
    mcu.peripherals[XIP_SRAM_KEY] = new MemoryBlock(xipSramView);
    // The QSPI SS line doubles as the BOOTSEL button: the flash's pull-up reads high while it is not pressed, so
    // the bootrom boots from flash. (The board process models BOOTSEL mode itself rather than running the
    // bootrom's USB mass-storage device.)
    Object.defineProperty(mcu.qspi[QSPI_SS_PIN], 'inputValue', { get: () => true });
    // rp2040js looks every store up in its peripheral table before it checks for SRAM (a dictionary lookup per
    // stack push); SRAM first, then XIP SRAM (which its table would mis-address), then everything else
    const { sram, sramView } = mcu;
    const ramEnd = RAM_BASE + sram.length;
    const slowWrite = mcu.writeUint32.bind(mcu);
    mcu.writeUint32 = (address, value) => {
      address >>>= 0;
      if (address >= RAM_BASE && address + 3 < ramEnd) sramView.setUint32(address - RAM_BASE, value, true);
      else if (address >>> 14 === XIP_SRAM_BASE >>> 14) xipSramView.setUint32(address & 0x3ffc, value, true);
      else slowWrite(address, value);
    };
    if (this.xipCache) this.xipCache.attach(mcu);

    this.detector.attach(mcu);
    const detectorInfo = mcu.logger.info;
    mcu.logger.info = (component, message) => {
      // rp2040js logs SEV and does nothing else; on the RP2040 it wakes the other core's WFE
      if (component === CORE_LOG && message === 'SEV') this.core1.signalEvent(mcu.core === this.core0 ? 1 : 0);
      else detectorInfo(component, message);
    };
    this.core0 = mcu.core;
    // the XIP cache model counts the accesses that go through rp2040js's memory map, which the fast executor skips
    const prepareCore = xipCacheModel || !fastExecutor ? () => {} : installFastDecode;
    prepareCore(this.core0);
    this.core1 = new Rp2040Core1(mcu, log, prepareCore);
    // every peripheral interrupt line reaches both cores' NVICs
    mcu.setInterrupt = (irq, value) => {
      this.core0.setInterrupt(irq, value);
      this.core1.core.setInterrupt(irq, value);
    };

    mcu.uart[0].onByte = uart?.[0] ?? (() => {});
    mcu.uart[1].onByte = uart?.[1] ?? (() => {});
    const watchdog = mcu.peripherals[WATCHDOG_KEY];
    if (carry) {
      watchdog.scratchData.set(carry.scratch); // watchdog scratch survives a watchdog reset; the bootrom reads it
      watchdog.reason = carry.reason;
    }
    watchdog.onWatchdogTrigger = () => {
      // the chip is reset: its counter stops here (left running at 0 it would fire again at the same instant,
      // forever, inside one clock tick)
      this.pendingReset = 'watchdog';
      watchdog.alarm.enable = false;
      watchdog.timer.enable = false;
    };
    const ppbWrite = mcu.ppb.writeUint32.bind(mcu.ppb);
    mcu.ppb.writeUint32 = (offset, value) => {
      if (offset === PPB_AIRCR_OFFSET && (value & 0xffff0000) === AIRCR_VECTKEY && value & AIRCR_SYSRESETREQ) {
        this.pendingReset = 'SYSRESETREQ';
      }
      ppbWrite(offset, value);
    };

    this.guardClock();
    this.boot = this.startCore0(bootrom !== null);
  }

  /**
   * The clock's tick with a bound on alarms firing at one instant: an rp2040js timer whose period has become 0
   * re-arms itself at the same moment forever, which would hang the board process inside one tick.
   */
  guardClock() {
    const { clock } = this.mcu;
    clock.tick = (deltaNanos) => {
      const target = clock.nanosCounter + deltaNanos;
      let fired = 0;
      for (let alarm = clock.nextAlarm; alarm !== null && alarm.nanos <= target; alarm = clock.nextAlarm) {
        clock.nextAlarm = alarm.next;
        clock.nanosCounter = alarm.nanos;
        alarm.callback();
        if (++fired > ALARM_STORM_LIMIT) {
          alarm.cancel();
          this.detector.emulatorError(`a timer alarm fired ${ALARM_STORM_LIMIT} times at one instant ` +
            `(${Math.round(clock.nanosCounter)} ns): the emulated peripheral's period is 0`);
          break;
        }
      }
      clock.nanosCounter = Math.max(clock.nanosCounter, target);
    };
  }

  /** Where core 0 starts: the bootrom's reset vector, or (no valid boot2 / no ROM) the image's vector table. */
  startCore0(haveBootrom) {
    const { mcu } = this;
    if (haveBootrom && hasValidBoot2(mcu.flash)) {
      mcu.core.reset(); // SP and PC from the bootrom's vector table at 0
      return 'bootrom';
    }
    const vectors = findVectorTable(mcu.flash);
    mcu.core.VTOR = vectors.vtor;
    mcu.core.SP = vectors.sp;
    mcu.core.PC = vectors.pc;
    return 'direct';
  }

  /** What a watchdog reset (`why` = 'watchdog') or a system reset keeps for the next chip: the watchdog's
   * scratch registers, and its reason register for a watchdog reset (the firmware's reset cause). */
  carryOver(why) {
    const watchdog = this.mcu.peripherals[WATCHDOG_KEY];
    return { scratch: Uint32Array.from(watchdog.scratchData), reason: why === 'watchdog' ? watchdog.reason : 0 };
  }

  get virtualNanos() {
    return this.mcu.clock.nanos;
  }

  /**
   * Run until `hostEndMs` (performance.now()) or until virtual time reaches `virtualLimitNs` with both cores
   * asleep. Returns {executed, halt, idle, wakeAtNs}: `idle` when both cores sleep and the next event (at
   * `wakeAtNs`, or null: only host input can wake them) lies beyond the limit.
   */
  run(hostEndMs, virtualLimitNs, now) {
    const { mcu, core1, detector } = this;
    const { clock } = mcu;
    const core = this.core0;
    const { registers } = core;
    const penalty = this.xipCache;
    const batch = core.runBatch !== undefined; // the fast executor (not with the XIP cache model)
    let executed = 0;
    while (now() < hostEndMs) {
      const cycleNanos = NANOS_PER_SECOND / mcu.clkSys;
      if (core1.running) {
        for (let i = 0; i < BATCH_INSTRUCTIONS; i++) {
          const stepped = this.stepBothCores(cycleNanos, virtualLimitNs);
          if (stepped < 0) return { executed, ...this.stepEnd };
          executed += stepped;
          if (this.pendingReset) return this.resetRequested(executed);
        }
        continue;
      }
      // core 1 asleep in the bootrom: core 0 alone (a launch shows up at the next batch, a few µs later)
      for (let i = 0; i < BATCH_INSTRUCTIONS; i++) {
        if (core.waiting) {
          if (core1.running) break; // just launched: both cores from here on
          if (core.interruptsUpdated && core.checkForInterrupts()) {
            core.waiting = false;
            continue;
          }
          const wait = this.skipTime(virtualLimitNs);
          if (wait) return { executed, halt: null, ...wait };
          if (this.pendingReset) return this.resetRequested(executed);
          continue;
        }
        let pc;
        if (batch) {
          // the fast executor runs until something here needs a look (counted as that many loop turns)
          const ran = core.runBatch(BATCH_INSTRUCTIONS - i, cycleNanos, this);
          executed += ran;
          i += ran - 1;
          pc = core.lastPc;
        } else {
          pc = registers[15];
          let cycles = core.executeInstruction();
          if (penalty) cycles += penalty.takeStallCycles();
          // the clock's tick, without its call when no alarm falls due
          const target = clock.nanosCounter + cycles * cycleNanos;
          const alarm = clock.nextAlarm;
          if (alarm !== null && alarm.nanos <= target) clock.tick(cycles * cycleNanos);
          else clock.nanosCounter = target;
          executed++;
        }
        if (registers[15] === pc || detector.pending) {
          const halt = detector.check(pc);
          if (halt) return { executed, halt, idle: false };
        }
        if (this.pendingReset) return this.resetRequested(executed);
      }
    }
    return { executed, halt: null, idle: false };
  }

  resetRequested(executed) {
    const why = this.pendingReset;
    this.pendingReset = null;
    this.onReset(why);
    return { executed, halt: null, idle: false, reset: why };
  }

  // Both cores asleep: move the clock to the next event, but not past the limit.
  skipTime(virtualLimitNs) {
    const { clock } = this.mcu;
    const toNext = clock.nanosToNextAlarm;
    const room = virtualLimitNs - clock.nanos;
    if (toNext > 0 && toNext <= room) {
      clock.tick(toNext);
      return null;
    }
    if (room > 0) clock.tick(room);
    return { idle: true, wakeAtNs: toNext > 0 ? clock.nanos + toNext - Math.max(room, 0) : null };
  }

  // One instruction of each awake core, the clock advancing by the longer of the two. Returns how many
  // instructions ran, or -1 with `stepEnd` ({halt, idle, wakeAtNs}) when the run must stop (no allocation per
  // step: this runs once per instruction pair).
  stepBothCores(cycleNanos, virtualLimitNs) {
    const { mcu, core1, detector } = this;
    const core = this.core0;
    const second = core1.core;
    if (core.waiting && core.interruptsUpdated && core.checkForInterrupts()) core.waiting = false;
    if (second.waiting && second.interruptsUpdated) {
      mcu.core = second;
      if (second.checkForInterrupts()) second.waiting = false;
      mcu.core = core;
    }
    if (core.waiting && second.waiting) {
      const wait = this.skipTime(virtualLimitNs);
      if (!wait) return 0;
      this.stepEnd = { halt: null, ...wait };
      return -1;
    }
    let executed = 0;
    let cycles = 0;
    if (!core.waiting) {
      const pc = core.registers[15];
      cycles = core.executeInstruction();
      executed++;
      if (core.registers[15] === pc || detector.pending) {
        const halt = detector.check(pc, core, 0);
        if (halt) {
          this.stepEnd = { halt, idle: false };
          return -1;
        }
      }
    }
    if (!second.waiting && core1.running) {
      core1.executing = 1;
      mcu.core = second; // the PPB (NVIC, SCB) answers for the executing core
      const pc1 = second.registers[15];
      const cycles1 = second.executeInstruction();
      mcu.core = core;
      core1.executing = 0;
      executed++;
      if (detector.pending) {
        const halt = detector.check(pc1, second, 1);
        if (halt) {
          this.stepEnd = { halt, idle: false };
          return -1;
        }
      }
      if (second.registers[15] === BOOTROM_CORE1_RETURN) core1.returnedToBootrom();
      if (cycles1 > cycles) cycles = cycles1;
    }
    if (this.xipCache) cycles += this.xipCache.takeStallCycles();
    mcu.clock.tick(cycles * cycleNanos);
    return executed;
  }

  /** Host input arrived for a peripheral: interrupts it raised are taken on the next step. */
  get asleep() {
    return this.core0.waiting && (!this.core1.running || this.core1.core.waiting);
  }

  /**
   * Bytes of memory as a debugger reads them over SWD, without side effects: ROM, flash (XIP), SRAM, XIP SRAM,
   * USB DPRAM. Other regions (peripherals) are refused.
   */
  readMemory(address, length) {
    const { mcu } = this;
    const regions = [
      [0, BOOTROM_BYTES, new Uint8Array(mcu.bootrom.buffer)],
      [FLASH_BASE, FLASH_BYTES, mcu.flash],
      [RAM_BASE, mcu.sram.length, mcu.sram],
      [XIP_SRAM_BASE, XIP_SRAM_BYTES, this.xipSram],
      [DPRAM_BASE, DPRAM_BYTES, mcu.usbDPRAM],
    ];
    for (const [base, size, bytes] of regions) {
      if (address >= base && address + length <= base + size) {
        return bytes.slice(address - base, address - base + length);
      }
    }
    throw new Error(`read_memory: 0x${address.toString(16)}+${length} is not in ROM, flash, SRAM or DPRAM`);
  }
}
