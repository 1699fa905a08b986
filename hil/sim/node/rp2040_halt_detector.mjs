// Halt detection for the simulated RP2040 core.
//
// rp2040js does not raise HardFault itself: `udf` and `bkpt` call `rp2040.onBreak`, and bus errors, unaligned
// accesses and undefined instructions only produce log messages. On a real Cortex-M0+ each of those ends in
// HardFault (and a fault inside the HardFault handler is a lockup); with probe-rs attached, vector catch stops
// the core right there. This detector turns them into one halt record, as a debugger would see it, and also
// recognises a core spinning forever in a branch-to-self (`loop {}` in a panic handler or a default exception
// handler), which on hardware is a dead core.

const IPSR_THREAD_MODE = 0;
const IPSR_NMI = 2;
const IPSR_HARDFAULT = 3;
const OPCODE_BKPT_MASK = 0xff00;
const OPCODE_BKPT = 0xbe00;
const SEMIHOSTING_BKPT = 0xab;
const SYS_EXIT = 0x18;
const ADP_STOPPED_APPLICATION_EXIT = 0x20026;

// Emulator log messages that mean "this access or instruction faults on real silicon".
const FAULT_MESSAGES = [
  ['Read from invalid memory address', 'bus fault (read from unmapped address)'],
  ['Write to undefined address', 'bus fault (write to unmapped address)'],
  ['which is not 32 bit aligned', 'unaligned access'],
  ['is not implemented yet', 'undefined instruction'],
];

export class HaltDetector {
  /** `log(text)` receives every emulator log line (for the board's diagnostics). */
  constructor(log) {
    this.log = log;
    this.pending = null; // a fault or break seen during the current instruction, resolved by `check`
    this.halt = null;
  }

  /** Hook into a fresh RP2040 instance (call again after every reset: a new instance needs new hooks). */
  attach(mcu) {
    this.mcu = mcu;
    this.pending = null;
    this.halt = null;
    mcu.logger = {
      debug: () => {},
      info: () => {},
      warn: (component, message) => this.onLog('warn', component, message),
      error: (component, message) => this.onLog('error', component, message),
    };
    mcu.onBreak = (code) => {
      this.pending = { kind: 'break', code };
    };
  }

  /** The emulator itself cannot go on (not a fault of the firmware): the board halts with this detail. */
  emulatorError(detail) {
    this.pending = { kind: 'emulator', detail };
  }

  onLog(level, component, message) {
    this.log(`${level} [${component}] ${message}`);
    if (this.pending) return;
    for (const [needle, detail] of FAULT_MESSAGES) {
      if (message.includes(needle)) {
        this.pending = { kind: 'fault', detail: `${detail}: ${message}` };
        return;
      }
    }
  }

  /**
   * Called by the run loop after an instruction when a fault/break is pending or the PC did not move.
   * `pc` is the address of the instruction just executed by `core` (core 0 unless `coreNumber` is 1).
   * Returns the halt record, or null to keep running.
   */
  check(pc, core = this.mcu.core, coreNumber = 0) {
    const pending = this.pending;
    this.pending = null;
    if (pending && pending.kind === 'break') {
      const at = core.PC - core.breakRewind;
      const opcode = this.mcu.readUint16(at);
      const isBkpt = (opcode & OPCODE_BKPT_MASK) === OPCODE_BKPT;
      if (isBkpt && pending.code === SEMIHOSTING_BKPT && core.registers[0] === SYS_EXIT) {
        // cortex-m-semihosting's debug::exit: a debugger ends the session with the program's status
        const success = core.registers[1] === ADP_STOPPED_APPLICATION_EXIT;
        const halt = this.stop('exit', at, `semihosting exit (${success ? 'success' : 'failure'})`, coreNumber);
        halt.exit_code = success ? 0 : 1;
        return halt;
      }
      return this.stop(isBkpt ? 'bkpt' : 'udf', at,
        `${isBkpt ? 'bkpt' : 'udf'} #${pending.code} (HardFault on hardware without a debugger)`, coreNumber);
    }
    if (pending && pending.kind === 'emulator') {
      return this.stop('emulator-error', pc, pending.detail, coreNumber);
    }
    if (pending && pending.kind === 'fault') {
      // ARMv6-M: a fault while in the NMI or HardFault handler cannot escalate further: the core locks up.
      const lockup = core.IPSR === IPSR_NMI || core.IPSR === IPSR_HARDFAULT;
      return this.stop(lockup ? 'lockup' : 'hardfault', pc,
        lockup ? `fault inside the ${core.IPSR === IPSR_NMI ? 'NMI' : 'HardFault'} handler: ${pending.detail}`
          : pending.detail, coreNumber);
    }
    // Core 1 may park itself in `loop {}` while core 0 goes on: only core 0 spinning is a dead board.
    if (coreNumber === 0 && core.PC === pc && !core.waiting) {
      const ipsr = core.IPSR;
      if (ipsr === IPSR_THREAD_MODE) {
        return this.stop('panic-loop', pc, 'core spinning in a branch-to-self loop (panic handler)');
      }
      if (ipsr === IPSR_HARDFAULT) {
        return this.stop('hardfault', pc, 'core spinning in the HardFault handler');
      }
      return this.stop('exception-loop', pc, `core spinning in the handler of exception ${ipsr}`);
    }
    return null;
  }

  stop(reason, pc, detail, coreNumber = 0) {
    // an exception entry leaves the Thumb bit in PC
    this.halt = { reason, pc: (pc & ~1) >>> 0, detail: coreNumber ? `core 1: ${detail}` : detail, core: coreNumber };
    return this.halt;
  }
}
