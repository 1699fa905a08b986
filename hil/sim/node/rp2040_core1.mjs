// Core 1 of the simulated RP2040, which rp2040js does not emulate (it runs core 0 only and has no inter-core
// FIFO).
//
// This adds what a firmware needs to start and use core 1: the two SIO FIFOs (FIFO_ST/FIFO_WR/FIFO_RD, 8 words
// each way) and their per-core interrupts (SIO_IRQ_PROC0/1: RX data valid or a sticky error), SIO CPUID answering
// per core, SEV waking the other core's WFE, the bootrom's core-1 launch handshake (echo every word; the sequence
// 0, 0, 1, VTOR, SP, entry starts core 1 there, with LR pointing into the bootrom's holding pen so a returning
// entry function lands back in it) and the PSM's force-off of PROC1: while forced off core 1 is dead; when
// released, its bootrom drains the FIFO and pushes a 0 to core 0, which pico-sdk 2.x's multicore_reset_core1
// waits for. Core 1 is a second rp2040js core on the same bus with its own NVIC state (rp2040js's PPB answers
// for `rp2040.core`, which the chip points at core 1 while core 1 executes); peripheral interrupts reach both
// cores. The chip runs the two interleaved, one instruction each, on one virtual clock.
//
// The SIO's hardware divider and interpolators are per core on the RP2040 (pico-sdk's division routines use the
// divider of whichever core runs them): rp2040js has one set, so each core gets its own bank, swapped in when
// that core touches them. Limits: SysTick is core 0's.

const SIO_CPUID = 0x000;
const SIO_FIFO_ST = 0x050;
const SIO_FIFO_WR = 0x054;
const SIO_FIFO_RD = 0x058;
const FIFO_ST_VLD = 1 << 0; // this core's RX FIFO has data
const FIFO_ST_RDY = 1 << 1; // this core's TX FIFO has room
const FIFO_ST_WOF = 1 << 2; // sticky: written while full
const FIFO_ST_ROE = 1 << 3; // sticky: read while empty
const FIFO_DEPTH_WORDS = 8;
const SIO_DIV_FIRST = 0x060; // divider 0x060..0x078, interpolators 0x080..0x0fc
const SIO_INTERP_END = 0x100;
const DIVIDER_FIELDS = ['divDividend', 'divDivisor', 'divQuotient', 'divRemainder', 'divCSR'];
const PSM_FRCE_OFF = 0x04;
const PSM_PROC1 = 1 << 16;
const PSM_PERIPHERAL_KEY = 0x40010;
const LAUNCH_PREFIX = [0, 0, 1]; // then VTOR, SP, entry
const LAUNCH_WORDS = 6;
const SIO_IRQ_PROC0 = 15;
const SIO_IRQ_PROC1 = 16;
// B1 bootrom: core 1's holding pen calls the entry with `blx r0` at 0x170; the entry returns to 0x172, which
// branches back into the pen.
export const BOOTROM_CORE1_RETURN = 0x172;
const THUMB = 1;

export class Rp2040Core1 {
  /** `prepareCore(core)`: applied to every core object core 1 gets (at construction and at each launch). */
  constructor(mcu, log, prepareCore = () => {}) {
    this.mcu = mcu;
    this.log = log;
    this.prepareCore = prepareCore;
    // rp2040js does not export its core class; the running core's constructor is the same class
    this.core0 = mcu.core;
    this.core = new mcu.core.constructor(mcu);
    prepareCore(this.core);
    this.running = false; // false: in the bootrom, waiting for the launch handshake
    this.executing = 0; // which core the current instruction belongs to (SIO CPUID)
    this.toCore1 = [];
    this.toCore0 = [];
    this.sticky = [0, 0];
    this.launch = [];
    this.poweredOff = false;
    this.hookSio();
    this.hookPsm();
  }

  hookSio() {
    const sio = this.mcu.sio;
    const read = sio.readUint32.bind(sio);
    const write = sio.writeUint32.bind(sio);
    // the bank not currently in the SIO object: core 1's until it first uses the divider
    const Interpolator = sio.interp0.constructor;
    this.parkedBank = { divDividend: 0, divDivisor: 1, divQuotient: 0, divRemainder: 0, divCSR: 0,
      interp0: new Interpolator(0), interp1: new Interpolator(1) };
    this.bankOwner = 0;
    const useBank = (coreNumber) => {
      if (this.bankOwner === coreNumber) return;
      const parked = this.parkedBank;
      const current = {};
      for (const field of [...DIVIDER_FIELDS, 'interp0', 'interp1']) {
        current[field] = sio[field];
        sio[field] = parked[field];
      }
      this.parkedBank = current;
      this.bankOwner = coreNumber;
    };
    sio.readUint32 = (offset) => {
      switch (offset) {
        case SIO_CPUID: return this.executing;
        case SIO_FIFO_ST: return this.fifoStatus(this.executing);
        case SIO_FIFO_RD: return this.fifoRead(this.executing);
        default:
          if (offset >= SIO_DIV_FIRST && offset < SIO_INTERP_END) useBank(this.executing);
          return read(offset);
      }
    };
    sio.writeUint32 = (offset, value) => {
      if (offset >= SIO_DIV_FIRST && offset < SIO_INTERP_END) useBank(this.executing);
      if (offset === SIO_FIFO_WR) this.fifoWrite(this.executing, value >>> 0);
      else if (offset === SIO_FIFO_ST) { // any write clears WOF/ROE
        this.sticky[this.executing] = 0;
        this.updateIrqs();
      }
      else write(offset, value);
    };
  }

  hookPsm() {
    const psm = this.mcu.peripherals[PSM_PERIPHERAL_KEY];
    const write = psm.writeUint32.bind(psm);
    psm.writeUint32 = (offset, value) => {
      write(offset, value);
      if (offset !== PSM_FRCE_OFF) return;
      if (value & PSM_PROC1) this.resetToBootrom();
      else this.powerOn();
    };
  }

  resetToBootrom() {
    if (this.running) this.log('core 1 reset by the PSM: back in the bootrom launch handshake');
    this.running = false;
    this.poweredOff = true;
    this.launch = [];
    this.toCore1 = [];
    this.toCore0 = [];
    this.sticky = [0, 0];
    this.updateIrqs();
  }

  // PSM released core 1: its bootrom drains its FIFO and tells core 0 it is ready with a 0.
  powerOn() {
    if (!this.poweredOff) return;
    this.poweredOff = false;
    this.toCore1 = [];
    this.toCore0.push(0);
    this.updateIrqs();
    this.signalEvent(0);
  }

  /** The entry function returned into the bootrom: core 1 is back in the holding pen, asleep. */
  returnedToBootrom() {
    this.log('core 1 entry returned: back in the bootrom holding pen');
    this.running = false;
    this.launch = [];
  }

  /** SEV, or a bootrom FIFO push: the other core's WFE returns. */
  signalEvent(coreNumber) {
    const core = coreNumber === 0 ? this.core0 : this.core;
    if (core.waiting) core.waiting = false;
    else core.eventRegistered = true;
  }

  updateIrqs() {
    this.core0.setInterrupt(SIO_IRQ_PROC0, this.toCore0.length > 0 || this.sticky[0] !== 0);
    this.core.setInterrupt(SIO_IRQ_PROC1, this.toCore1.length > 0 || this.sticky[1] !== 0);
  }

  rxOf(coreNumber) {
    return coreNumber === 0 ? this.toCore0 : this.toCore1;
  }

  txOf(coreNumber) {
    return coreNumber === 0 ? this.toCore1 : this.toCore0;
  }

  fifoStatus(coreNumber) {
    return (this.rxOf(coreNumber).length ? FIFO_ST_VLD : 0) |
      (this.txOf(coreNumber).length < FIFO_DEPTH_WORDS ? FIFO_ST_RDY : 0) | this.sticky[coreNumber];
  }

  fifoRead(coreNumber) {
    const rx = this.rxOf(coreNumber);
    if (rx.length === 0) {
      this.sticky[coreNumber] |= FIFO_ST_ROE;
      this.updateIrqs();
      return 0;
    }
    const value = rx.shift();
    this.updateIrqs();
    return value;
  }

  fifoWrite(coreNumber, value) {
    const tx = this.txOf(coreNumber);
    if (tx.length >= FIFO_DEPTH_WORDS) {
      this.sticky[coreNumber] |= FIFO_ST_WOF;
      return;
    }
    tx.push(value);
    if (coreNumber === 0 && !this.running && !this.poweredOff) this.bootromStep();
    this.updateIrqs();
  }

  // The bootrom on core 1: takes each word core 0 sends, echoes it, and launches after a full sequence.
  bootromStep() {
    while (this.toCore1.length && !this.running) {
      const word = this.toCore1.shift();
      if (word === 0) this.toCore1.length = 0; // on a 0 the bootrom drains what else it received, then echoes
      const at = this.launch.length;
      if (at < LAUNCH_PREFIX.length && word !== LAUNCH_PREFIX[at]) {
        this.launch = word === LAUNCH_PREFIX[0] ? [word] : [];
      } else {
        this.launch.push(word);
      }
      if (this.toCore0.length < FIFO_DEPTH_WORDS) this.toCore0.push(word);
      this.signalEvent(0);
      if (this.launch.length === LAUNCH_WORDS) this.start();
    }
  }

  start() {
    const [, , , vtor, sp, entry] = this.launch;
    // a fresh core: its NVIC, PRIMASK and mode start from reset; level interrupts already asserted stay
    const core = new this.core0.constructor(this.mcu);
    core.pendingInterrupts = this.core.pendingInterrupts;
    this.prepareCore(core);
    this.core = core;
    core.VTOR = vtor;
    core.SP = sp;
    core.PC = entry & ~1;
    core.LR = BOOTROM_CORE1_RETURN | THUMB;
    core.waiting = false;
    this.launch = [];
    this.running = true;
    this.log(`core 1 launched at 0x${(entry >>> 0).toString(16)} (SP 0x${(sp >>> 0).toString(16)})`);
  }
}
