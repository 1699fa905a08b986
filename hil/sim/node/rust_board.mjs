// The simulated Rust Pico: an RP2040 in rp2040js running the firmware image from its (simulated) flash.
//
// Started by the supervisor as
//   node rust_board.mjs --board-id ID --state-dir DIR [--options-json JSON]
// with fd 3 = the USB CDC link and fd 4 = UART0 (Unix stream sockets, raw bytes), JSON-line control requests on
// stdin and replies/events on stdout (docs/sim-bench.md, "Board process contract"). Exits when stdin closes.
// Diagnostics go to stderr. Behaviour and limits: docs/sim-rust.md.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { RP2040 } from 'rp2040js';
import { FLASH_SIZE_BYTES, findVectorTable, ImageError, parseImage } from './rp2040_image.mjs';
import { Rp2040Core1 } from './rp2040_core1.mjs';
import { installFastSramWrites } from './rp2040_fast_paths.mjs';
import { HaltDetector } from './rp2040_halt_detector.mjs';
import { RustSerialLink } from './rust_serial_link.mjs';
import { RustUsbCdcHost } from './rust_usb_cdc_host.mjs';

const USB_LINK_FD = 3;
const UART0_LINK_FD = 4;
const NANOS_PER_SECOND = 1e9;
const NANOS_PER_MS = 1e6;
const SLICE_HOST_MS = 10; // run the emulator this long, then let socket and control I/O in
const BATCH_INSTRUCTIONS = 4096; // instructions between host-clock checks within a slice
const IDLE_RETRY_MS = 1; // core asleep with nothing scheduled: look again after this long
const HALT_FLUSH_NS = 2_000_000; // after a halt, let already-queued USB/UART transfers finish (virtual time)
const RECENT_OUTPUT_BYTES = 4096; // kept to find the panic message of a halt
const PANIC_LINE = /(^|\n)(PANIC[^\r\n]*|panicked at[^\r\n]*)/g;
const UART_RX_FIFO_BYTES = 32;
const UART_QUEUE_LIMIT_BYTES = 256 * 1024;
const WATCHDOG_PERIPHERAL_KEY = 0x40058; // rp2040js's peripheral table is keyed by address >> 14 << 2
const PPB_AIRCR_OFFSET = 0xd0c;
const AIRCR_VECTKEY = 0x05fa0000;
const AIRCR_SYSRESETREQ = 0x4;
const FLASH_FILE = 'flash.bin';

// stdout carries the control protocol: everything else a library prints goes to stderr.
for (const method of ['log', 'info', 'debug', 'warn']) {
  console[method] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
}

function parseArgs(argv) {
  const args = { boardId: 'rust', stateDir: null, options: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--board-id') { args.boardId = value; i++; }
    else if (flag === '--state-dir') { args.stateDir = value; i++; }
    else if (flag === '--options-json') { args.options = JSON.parse(value); i++; }
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!args.stateDir) throw new Error('--state-dir is required');
  return args;
}

export class RustBoard {
  constructor({ boardId, stateDir, options }) {
    this.boardId = boardId;
    this.stateDir = stateDir;
    // usb_link: "cdc" (the firmware's USB CDC serial) or "uart0" (the USB link carries UART0's bytes)
    this.usbLinkMode = options.usb_link ?? 'cdc';
    this.state = 'bootsel';
    this.flash = null; // Uint8Array with the programmed flash, or null when erased
    this.imageInfo = null;
    this.mcu = null;
    this.usbHost = null;
    this.halt = null;
    this.sliceTimer = null;
    this.uartQueue = [];
    this.recentOutput = '';
    this.startedHostNs = process.hrtime.bigint();
    this.imageStartedHostNs = null;
    this.instructions = 0;
    this.runHostMs = 0;
    this.resets = 0;
    this.detector = new HaltDetector((text) => this.diag(text));
    this.usbLink = new RustSerialLink('usb', USB_LINK_FD, (bytes) => this.hostToUsb(bytes));
    // the supervisor says which links it passed (fd 3, then fd 4); without that, whatever sockets are there
    const links = options.links ?? ['usb', 'uart0'];
    this.uartLink = new RustSerialLink('uart0', links.includes('uart0') ? UART0_LINK_FD : -1,
      (bytes) => this.hostToUart(bytes));
    fs.mkdirSync(stateDir, { recursive: true });
  }

  diag(text) {
    process.stderr.write(`${text}\n`);
  }

  emit(object) {
    process.stdout.write(JSON.stringify(object) + '\n');
  }

  // ---- flash -------------------------------------------------------------------------------------------

  get flashPath() {
    return path.join(this.stateDir, FLASH_FILE);
  }

  /** Program an image file into flash (replacing all of it) and keep it in the state folder. */
  load(filePath, format = null) {
    const bytes = new Uint8Array(fs.readFileSync(filePath));
    const image = parseImage(bytes, format);
    const vectors = findVectorTable(image.flash);
    this.stop();
    this.halt = null;
    const programmed = image.flash.subarray(0, image.endOffset);
    fs.writeFileSync(this.flashPath, programmed);
    this.flash = image.flash;
    this.imageInfo = {
      path: path.resolve(filePath),
      format: image.format,
      size_bytes: image.sizeBytes,
      flash_end_bytes: image.endOffset,
      flash_sha256: createHash('sha256').update(programmed).digest('hex'),
      vtor: vectors.vtor,
      has_boot2: vectors.hasBoot2,
    };
    if (this.state !== 'bootsel') this.state = 'idle';
    return this.imageInfo;
  }

  /** Restore flash from the state folder (a board keeps its image across supervisor restarts). */
  restoreFlash() {
    if (!fs.existsSync(this.flashPath)) return false;
    const programmed = new Uint8Array(fs.readFileSync(this.flashPath));
    if (programmed.length > FLASH_SIZE_BYTES) throw new ImageError(`${this.flashPath} is larger than flash`);
    this.flash = new Uint8Array(FLASH_SIZE_BYTES).fill(0xff);
    this.flash.set(programmed);
    const vectors = findVectorTable(this.flash);
    this.imageInfo = {
      path: this.flashPath, format: 'bin', size_bytes: programmed.length, flash_end_bytes: programmed.length,
      flash_sha256: createHash('sha256').update(programmed).digest('hex'),
      vtor: vectors.vtor, has_boot2: vectors.hasBoot2,
    };
    return true;
  }

  // ---- life cycle --------------------------------------------------------------------------------------

  stop() {
    this.cancelSlice();
    this.mcu = null;
    this.core1 = null;
    this.usbHost = null;
  }

  /** Power-on reset: a fresh chip, flash contents kept, started at the application's vector table. */
  start() {
    this.stop();
    const hadRun = this.resets > 0;
    this.resets++;
    this.halt = null;
    this.recentOutput = '';
    this.uartQueue = [];
    if (!this.flash) {
      // An RP2040 with nothing valid in flash ends up in the bootrom's USB boot mode.
      this.state = 'bootsel';
      if (hadRun) this.emit({ event: 'usb-reconnect' });
      return;
    }
    const mcu = new RP2040();
    installFastSramWrites(mcu);
    this.detector.attach(mcu);
    mcu.flash.set(this.flash);
    const vectors = findVectorTable(this.flash);
    mcu.core.VTOR = vectors.vtor;
    mcu.core.SP = vectors.sp;
    mcu.core.PC = vectors.pc;
    mcu.uart[0].onByte = (value) => this.uartToHost(value);
    mcu.uart[1].onByte = () => {};
    mcu.peripherals[WATCHDOG_PERIPHERAL_KEY].onWatchdogTrigger = () => {
      this.pendingSoftwareReset = 'watchdog';
    };
    const ppbWrite = mcu.ppb.writeUint32.bind(mcu.ppb);
    mcu.ppb.writeUint32 = (offset, value) => {
      if (offset === PPB_AIRCR_OFFSET && (value & 0xffff0000) === AIRCR_VECTKEY && value & AIRCR_SYSRESETREQ) {
        this.pendingSoftwareReset = 'SYSRESETREQ';
      }
      ppbWrite(offset, value);
    };
    this.pendingSoftwareReset = null;
    if (this.usbLinkMode === 'cdc') {
      this.usbHost = new RustUsbCdcHost(mcu.usbCtrl, {
        onData: (bytes) => this.usbToHost(bytes),
        onConfigured: () => this.diag('usb: CDC device configured, DTR raised'),
      });
    }
    this.core1 = new Rp2040Core1(mcu, (text) => this.diag(text));
    this.mcu = mcu;
    this.state = 'running';
    this.imageStartedHostNs = process.hrtime.bigint();
    if (hadRun) this.emit({ event: 'usb-reconnect' });
    this.schedule(0);
  }

  softwareReset(why) {
    this.diag(`reset requested by the firmware (${why})`);
    setImmediate(() => this.start());
  }

  enterBootsel() {
    this.stop();
    this.halt = null;
    this.state = 'bootsel';
    this.emit({ event: 'usb-reconnect' });
  }

  schedule(delayMs) {
    if (this.sliceTimer || this.state !== 'running') return;
    this.sliceTimer = delayMs > 0
      ? setTimeout(() => this.runSlice(), delayMs)
      : setImmediate(() => this.runSlice());
  }

  // ---- emulation ---------------------------------------------------------------------------------------

  runSlice() {
    this.sliceTimer = null;
    const mcu = this.mcu;
    if (!mcu || this.state !== 'running') return;
    const { core, clock } = mcu;
    const { core1, detector } = this;
    const sliceStart = performance.now();
    const sliceEnd = sliceStart + SLICE_HOST_MS;
    let executed = 0;
    let idle = false;
    let halt = null;
    outer:
    while (performance.now() < sliceEnd) {
      const cycleNanos = NANOS_PER_SECOND / mcu.clkSys;
      for (let i = 0; i < BATCH_INSTRUCTIONS; i++) {
        if (core1.running) {
          const result = this.stepBothCores(cycleNanos);
          executed += result.executed;
          if (result.halt) {
            halt = result.halt;
            break outer;
          }
          if (result.idle) {
            idle = true;
            break outer;
          }
          if (this.pendingSoftwareReset) break outer;
          continue;
        }
        if (core.waiting) {
          const nanos = clock.nanosToNextAlarm;
          if (nanos <= 0) {
            // asleep with nothing scheduled: only host input can wake it
            idle = true;
            break outer;
          }
          clock.tick(nanos);
          if (this.pendingSoftwareReset) break outer; // the watchdog fires from a timer alarm
          continue;
        }
        const pc = core.PC;
        const cycles = core.executeInstruction();
        clock.tick(cycles * cycleNanos);
        executed++;
        if (core.PC === pc || detector.pending) {
          halt = detector.check(pc);
          if (halt) break outer;
        }
        if (this.pendingSoftwareReset) break outer;
      }
      this.feedUart();
    }
    const spentMs = performance.now() - sliceStart;
    this.instructions += executed;
    this.runHostMs += spentMs;
    if (idle) {
      // keep virtual time moving with host time while the core sleeps with no timer armed
      clock.tick(IDLE_RETRY_MS * NANOS_PER_MS);
    }
    this.feedUart();
    if (halt) {
      this.onHalt(halt);
    } else if (this.pendingSoftwareReset) {
      this.softwareReset(this.pendingSoftwareReset);
    }
    this.usbLink.flush();
    this.uartLink.flush();
    if (!halt && !this.pendingSoftwareReset) this.schedule(idle ? IDLE_RETRY_MS : 0);
  }

  // One instruction of each core (core 1 sleeps never: its `wfe`/`wfi` are treated as no-ops, since nothing here
  // would wake it), the clock advancing by the longer of the two.
  stepBothCores(cycleNanos) {
    const { core, clock } = this.mcu;
    const { core1, detector } = this;
    const second = core1.core;
    let executed = 0;
    let cycles = 0;
    if (!core.waiting) {
      const pc = core.PC;
      cycles = core.executeInstruction();
      executed++;
      if (core.PC === pc || detector.pending) {
        const halt = detector.check(pc, core, 0);
        if (halt) return { executed, halt };
      }
    }
    core1.executing = 1;
    const pc1 = second.PC;
    const cycles1 = second.executeInstruction();
    core1.executing = 0;
    second.waiting = false;
    executed++;
    if (detector.pending) {
      const halt = detector.check(pc1, second, 1);
      if (halt) return { executed, halt };
    }
    clock.tick(Math.max(cycles, cycles1) * cycleNanos);
    return { executed, halt: null, idle: false };
  }

  onHalt(halt) {
    const { clock } = this.mcu;
    clock.tick(HALT_FLUSH_NS);
    this.state = 'halted';
    const panic = [...this.recentOutput.matchAll(PANIC_LINE)].pop();
    this.halt = {
      reason: halt.reason,
      pc: halt.pc,
      message: panic ? panic[2] : halt.detail,
      detail: halt.detail,
      virtual_time_ns: Math.round(clock.nanos),
      ...(halt.exit_code === undefined ? {} : { exit_code: halt.exit_code }),
    };
    this.diag(`halt: ${halt.reason} at 0x${halt.pc.toString(16)}: ${this.halt.message}`);
    this.emit({ event: 'halt', reason: halt.reason, pc: halt.pc, message: this.halt.message, core: halt.core });
  }

  remember(bytes) {
    this.recentOutput += Buffer.from(bytes).toString('latin1');
    if (this.recentOutput.length > RECENT_OUTPUT_BYTES) {
      this.recentOutput = this.recentOutput.slice(-RECENT_OUTPUT_BYTES);
    }
  }

  uartToHost(value) {
    this.uartLink.writeByte(value);
    if (this.usbLinkMode === 'uart0') this.usbLink.writeByte(value);
    this.remember([value]);
  }

  usbToHost(bytes) {
    this.usbLink.writeBytes(bytes);
    this.remember(bytes);
  }

  hostToUart(bytes) {
    if (this.uartQueue.length + bytes.length > UART_QUEUE_LIMIT_BYTES) return;
    for (const b of bytes) this.uartQueue.push(b);
    this.feedUart();
    this.wake();
  }

  hostToUsb(bytes) {
    if (this.usbLinkMode === 'uart0') {
      this.hostToUart(bytes);
      return;
    }
    this.usbHost?.send(bytes);
    this.wake();
  }

  // UART RX: a 32-byte FIFO in the chip; the rest waits here, as it would in the sender's buffer.
  feedUart() {
    const uart = this.mcu?.uart[0];
    if (!uart || this.uartQueue.length === 0) return;
    let room = UART_RX_FIFO_BYTES - uart.rxFIFO.itemCount;
    let taken = 0;
    while (room-- > 0 && taken < this.uartQueue.length) uart.feedByte(this.uartQueue[taken++]);
    this.uartQueue.splice(0, taken);
  }

  cancelSlice() {
    if (!this.sliceTimer) return;
    clearTimeout(this.sliceTimer);
    clearImmediate(this.sliceTimer);
    this.sliceTimer = null;
  }

  /** Host input arrived: a sleeping core gets it now rather than after the idle retry delay. */
  wake() {
    if (this.state === 'running' && this.sliceTimer) {
      this.cancelSlice();
      this.schedule(0);
    }
  }

  // ---- control -----------------------------------------------------------------------------------------

  status() {
    const now = process.hrtime.bigint();
    const mips = this.runHostMs > 0 ? this.instructions / (this.runHostMs * 1000) : 0;
    return {
      board_id: this.boardId,
      state: this.state,
      halt: this.halt,
      virtual_time_ns: this.mcu ? Math.round(this.mcu.clock.nanos) : 0,
      host_time_ns: this.imageStartedHostNs ? Number(now - this.imageStartedHostNs) : 0,
      clock_domain: 'rp2040js-virtual',
      cycles: this.mcu ? this.mcu.core.cycles : 0,
      instructions: this.instructions,
      emulated_mips: Math.round(mips * 100) / 100,
      usb_link: this.usbLinkMode,
      usb_configured: !!this.usbHost?.configured,
      image: this.imageInfo,
      resets: this.resets,
      core1_running: !!this.core1?.running,
    };
  }

  handle(request) {
    switch (request.cmd) {
      case 'status':
        return this.status();
      case 'load':
        if (typeof request.path !== 'string') throw new Error('load needs "path"');
        return { image: this.load(request.path, request.format ?? null), state: this.state };
      case 'run':
      case 'reset':
        this.start();
        return { state: this.state };
      case 'bootsel':
        this.enterBootsel();
        return { state: this.state };
      case 'shutdown':
        setImmediate(() => this.shutdown());
        return { state: 'shutdown' };
      default:
        throw new Error(`unknown command ${JSON.stringify(request.cmd)}`);
    }
  }

  onControlLine(line) {
    if (!line.trim()) return;
    let request;
    try {
      request = JSON.parse(line);
    } catch (err) {
      this.emit({ id: null, ok: false, error: `bad JSON: ${err.message}` });
      return;
    }
    try {
      this.emit({ id: request.id, ok: true, ...this.handle(request) });
    } catch (err) {
      this.emit({ id: request.id, ok: false, error: err.message });
    }
  }

  shutdown() {
    this.stop();
    this.usbLink.flush();
    this.uartLink.flush();
    this.usbLink.close();
    this.uartLink.close();
    process.exit(0);
  }

  boot() {
    try {
      if (this.restoreFlash()) this.start();
    } catch (err) {
      this.diag(`flash image in ${this.flashPath} not usable: ${err.message}`);
      this.flash = null;
    }
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => this.onControlLine(line));
    rl.on('close', () => this.shutdown());
    this.emit({ event: 'ready' });
  }
}

const board = new RustBoard(parseArgs(process.argv.slice(2)));
board.boot();
