// One simulated Pico: the emulated RP2040 (rp2040_chip.mjs) with its flash, USB CDC and UART0 bridged to the
// supervisor. The Rust board and the MicroPython board are this same process with different flash contents.
//
// Started by the supervisor as
//   node pico_board.mjs --board-id ID --state-dir DIR [--options-json JSON]
// with fd 3 = the USB link and fd 4 = UART0 (Unix stream sockets, raw bytes), JSON-line control requests on
// stdin and replies/events on stdout (docs/sim-bench.md, "Board process contract"). Exits when stdin closes.
// Diagnostics go to stderr.
//
// Options (--options-json): `bootrom` (path of the 16 KiB RP2040 bootrom, mapped at 0), `firmware_uf2` (a UF2
// programmed into flash when flash does not hold it yet, keeping the rest of flash, as a BOOTSEL copy does),
// `links`, `usb_link` ("cdc" | "uart0"), `serial_number` (becomes the flash unique id, hence the USB serial
// number pico-sdk and MicroPython report), `xip_cache_model` (charge XIP cache misses in virtual time).
//
// Time: virtual time never runs ahead of host time since the chip started. While both cores sleep the chip
// jumps to the next timer event up to that limit, then the process sleeps on the host until the event is due
// or host input arrives; so an idle board costs next to nothing and a sleep on the board lasts as long as on a
// Pico, while computing runs at whatever speed the emulator reaches.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { findVectorTable, ImageError, parseImage } from './rp2040_image.mjs';
import { BOOTROM_BYTES, hasValidBoot2, Rp2040Chip } from './rp2040_chip.mjs';
import { FLASH_BYTES } from './rp2040_qspi_flash.mjs';
import { SerialLink } from './serial_link.mjs';
import { UsbCdcHost } from './usb_cdc_host.mjs';

const USB_LINK_FD = 3;
const UART0_LINK_FD = 4;
const NANOS_PER_MS = 1e6;
const SLICE_HOST_MS = 10; // run the emulator this long, then let socket and control I/O in
const AHEAD_LIMIT_NS = 1_000_000; // how far virtual time may run ahead of host time
const MIN_SLEEP_MS = 1;
const MAX_SLEEP_MS = 1000; // sleeping with no event due: look again at least this often
const HALT_FLUSH_NS = 2_000_000; // after a halt, let already-queued USB/UART transfers finish (virtual time)
const RECENT_OUTPUT_BYTES = 4096; // kept to find the panic message of a halt
const PANIC_LINE = /(^|\n)(PANIC[^\r\n]*|panicked at[^\r\n]*)/g;
const UART_RX_FIFO_BYTES = 32;
const UART_QUEUE_LIMIT_BYTES = 256 * 1024;
const FLASH_FILE = 'flash.bin';
const FIRMWARE_RECORD = 'firmware.json';
const FLASH_SAVE_INTERVAL_MS = 250;
const SECTOR_BYTES = 4096;
const READ_MEMORY_MAX_BYTES = 65536;
const UNIQUE_ID_BYTES = 8;

// stdout carries the control protocol: everything else a library prints goes to stderr.
for (const method of ['log', 'info', 'debug', 'warn']) {
  console[method] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
}

function parseArgs(argv) {
  const args = { boardId: 'pico', stateDir: null, options: {} };
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

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The flash unique id: the board's serial number's 16 hex digits, else a hash of the board id. */
function uniqueIdFor(boardId, serialNumber) {
  if (typeof serialNumber === 'string' && /^[0-9a-fA-F]{16}$/.test(serialNumber)) {
    return Uint8Array.from(Buffer.from(serialNumber, 'hex'));
  }
  return Uint8Array.from(createHash('sha256').update(`board:${boardId}`).digest().subarray(0, UNIQUE_ID_BYTES));
}

export class PicoBoard {
  constructor({ boardId, stateDir, options }) {
    this.boardId = boardId;
    this.stateDir = stateDir;
    this.options = options;
    this.usbLinkMode = options.usb_link ?? 'cdc';
    this.xipCacheModel = options.xip_cache_model === true;
    this.uniqueId = uniqueIdFor(boardId, options.serial_number);
    this.state = 'bootsel';
    this.flash = new Uint8Array(FLASH_BYTES).fill(0xff);
    this.flashDirty = false;
    this.flashSavedAtMs = 0;
    this.imageInfo = null;
    this.bootrom = null;
    this.chip = null;
    this.usbHost = null;
    this.halt = null;
    this.sliceTimer = null;
    this.uartQueue = [];
    this.recentOutput = '';
    this.chipStartedHostMs = 0;
    this.imageStartedHostNs = null;
    this.instructions = 0;
    this.runHostMs = 0;
    this.sleepHostMs = 0;
    this.resets = 0;
    this.usbLink = new SerialLink('usb', USB_LINK_FD, (bytes) => this.hostToUsb(bytes));
    // the supervisor says which links it passed (fd 3, then fd 4); without that, whatever sockets are there
    const links = options.links ?? ['usb', 'uart0'];
    this.uartLink = new SerialLink('uart0', links.includes('uart0') ? UART0_LINK_FD : -1,
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

  get firmwareRecordPath() {
    return path.join(this.stateDir, FIRMWARE_RECORD);
  }

  get hasFirmware() {
    return this.bootable(this.flash);
  }

  /** Whether the chip can start from `flash`: a boot2 the bootrom accepts, or a vector table a debugger would use. */
  bootable(flash) {
    if (this.bootrom && hasValidBoot2(flash)) return true;
    try {
      findVectorTable(flash);
      return true;
    } catch {
      return false;
    }
  }

  /** Save flash atomically (a killed process leaves the old or the new file, never half of one). */
  saveFlash() {
    const temporary = `${this.flashPath}.tmp`;
    fs.writeFileSync(temporary, this.flash);
    fs.renameSync(temporary, this.flashPath);
    this.flashDirty = false;
    this.flashSavedAtMs = performance.now();
  }

  saveFlashIfDue(force = false) {
    if (!this.flashDirty) return;
    if (force || performance.now() - this.flashSavedAtMs >= FLASH_SAVE_INTERVAL_MS) this.saveFlash();
  }

  describeFlash(source, format, sizeBytes) {
    let vectors = null;
    try {
      vectors = findVectorTable(this.flash);
    } catch {
      // MicroPython's vector table is found by boot2, not by its place: nothing to report
    }
    let end = this.flash.length;
    while (end > 0 && this.flash[end - 1] === 0xff) end--;
    return {
      path: source, format, size_bytes: sizeBytes, flash_end_bytes: end,
      flash_sha256: sha256(this.flash.subarray(0, end)),
      // has_boot2: the vector table sits after a 256-byte boot2 area; boot2_valid: that area passes the
      // bootrom's CRC check (so the chip boots through the bootrom)
      vtor: vectors?.vtor ?? null, has_boot2: vectors ? vectors.hasBoot2 : hasValidBoot2(this.flash),
      boot2_valid: hasValidBoot2(this.flash),
    };
  }

  /**
   * Program an image sector by sector, as a BOOTSEL copy or picotool load does: other sectors are kept. An image
   * the chip could not start from is refused before flash changes.
   */
  programImage(filePath, format = null) {
    const bytes = new Uint8Array(fs.readFileSync(filePath));
    const image = parseImage(bytes, format);
    const next = this.flash.slice();
    for (let at = 0; at < image.endOffset; at += SECTOR_BYTES) {
      const sector = image.flash.subarray(at, at + SECTOR_BYTES);
      if (sector.some((b) => b !== 0xff)) next.set(sector, at);
    }
    if (!this.bootable(next)) {
      throw new ImageError('image has neither a boot2 the bootrom accepts nor a vector table at 0x10000000 or ' +
        '0x10000100 (initial SP in RAM, odd reset vector in flash)');
    }
    this.flash.set(next);
    this.flashDirty = true;
    this.saveFlash();
    return { image, bytes };
  }

  /** `load` request: program an image file into flash; does not start it. */
  load(filePath, format = null) {
    const { image } = this.programImage(filePath, format);
    this.stop();
    this.halt = null;
    this.imageInfo = this.describeFlash(path.resolve(filePath), image.format, image.sizeBytes);
    if (this.state !== 'bootsel') this.state = 'idle';
    return this.imageInfo;
  }

  eraseFlash() {
    this.stop();
    this.flash.fill(0xff);
    this.flashDirty = true;
    this.saveFlash();
    this.imageInfo = null;
    this.halt = null;
    this.state = 'bootsel';
  }

  /** Restore flash from the state folder (a board keeps its flash across process restarts). */
  restoreFlash() {
    if (!fs.existsSync(this.flashPath)) return;
    const saved = new Uint8Array(fs.readFileSync(this.flashPath));
    if (saved.length > FLASH_BYTES) throw new ImageError(`${this.flashPath} is larger than the 2 MiB flash`);
    this.flash.set(saved); // an older, shorter file holds the programmed start of flash
    this.imageInfo = this.describeFlash(this.flashPath, 'bin', saved.length);
  }

  /** `firmware_uf2`: program it unless flash already holds this very file (the filesystem stays). */
  applyFirmwareOption() {
    const uf2 = this.options.firmware_uf2;
    if (!uf2) return;
    const digest = sha256(fs.readFileSync(uf2));
    let record = null;
    try {
      record = JSON.parse(fs.readFileSync(this.firmwareRecordPath, 'utf8'));
    } catch {
      // no record: flash never held a firmware from this option
    }
    if (record?.sha256 === digest && this.hasFirmware) return;
    this.programImage(uf2, 'uf2');
    fs.writeFileSync(this.firmwareRecordPath, JSON.stringify({ path: path.resolve(uf2), sha256: digest }) + '\n');
    this.imageInfo = this.describeFlash(path.resolve(uf2), 'uf2', fs.statSync(uf2).size);
    this.diag(`flash: programmed ${uf2} (sha256 ${digest})`);
  }

  loadBootrom() {
    const file = this.options.bootrom;
    if (!file) {
      this.diag('no bootrom given: images start from their vector table, ROM functions are missing');
      return;
    }
    const bytes = new Uint8Array(fs.readFileSync(file));
    if (bytes.length !== BOOTROM_BYTES) {
      throw new Error(`bootrom ${file} is ${bytes.length} bytes, an RP2040 bootrom is ${BOOTROM_BYTES}`);
    }
    this.bootrom = bytes;
  }

  // ---- life cycle --------------------------------------------------------------------------------------

  stop() {
    this.cancelSlice();
    this.chip = null;
    this.usbHost = null;
  }

  /** Power-on reset (or, with `carry`, a watchdog/system reset): a fresh chip around the same flash. */
  start(carry = null) {
    this.stop();
    this.saveFlashIfDue(true);
    const hadRun = this.resets > 0;
    this.resets++;
    this.halt = null;
    this.recentOutput = '';
    this.uartQueue = [];
    if (!this.hasFirmware) {
      // An RP2040 with nothing valid in flash ends up in the bootrom's USB boot mode.
      this.state = 'bootsel';
      if (hadRun) this.emit({ event: 'usb-reconnect' });
      return;
    }
    const chip = new Rp2040Chip({
      bootrom: this.bootrom,
      flash: this.flash,
      uniqueId: this.uniqueId,
      log: (text) => this.diag(text),
      onFlashChange: () => { this.flashDirty = true; },
      onReset: (why) => { this.pendingReset = why; },
      uart: [(value) => this.uartToHost(value), () => {}],
      carry,
      xipCacheModel: this.xipCacheModel,
    });
    this.pendingReset = null;
    if (this.usbLinkMode === 'cdc') {
      this.usbHost = new UsbCdcHost(chip.mcu.usbCtrl, {
        onData: (bytes) => this.usbToHost(bytes),
        onConfigured: () => this.diag('usb: CDC device configured, DTR raised'),
        // the bootrom's USB boot device (after machine.bootloader() / reset_usb_boot): BOOTSEL, as the
        // supervisor models it (no mass-storage drive; `load` programs flash)
        onNoSerialPort: () => setImmediate(() => {
          if (this.chip !== chip) return;
          this.diag('usb: the device has no CDC serial port (the bootrom\'s USB boot mode): BOOTSEL');
          this.enterBootsel();
        }),
      });
    }
    this.chip = chip;
    this.state = 'running';
    this.chipStartedHostMs = performance.now();
    this.imageStartedHostNs = process.hrtime.bigint();
    if (hadRun) this.emit({ event: 'usb-reconnect' });
    this.schedule(0);
  }

  softwareReset(why) {
    this.diag(`reset requested by the firmware (${why})`);
    const carry = this.chip.carryOver(why);
    setImmediate(() => this.start(carry));
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

  virtualLimitNs() {
    return (performance.now() - this.chipStartedHostMs) * NANOS_PER_MS + AHEAD_LIMIT_NS;
  }

  runSlice() {
    this.sliceTimer = null;
    const chip = this.chip;
    if (!chip || this.state !== 'running') return;
    const sliceStart = performance.now();
    const now = () => performance.now();
    let result = { executed: 0, halt: null, idle: false };
    let hostEnd = sliceStart + SLICE_HOST_MS;
    // run in short pieces so UART input is fed as the FIFO drains
    while (now() < hostEnd) {
      result = chip.run(Math.min(hostEnd, now() + 1), this.virtualLimitNs(), now);
      this.instructions += result.executed;
      this.feedUart();
      if (result.halt || result.idle || this.pendingReset) break;
    }
    const spentMs = performance.now() - sliceStart;
    this.runHostMs += spentMs;
    this.feedUart();
    this.usbLink.flush();
    this.uartLink.flush();
    this.saveFlashIfDue();
    if (result.halt) {
      this.onHalt(result.halt);
      return;
    }
    if (this.pendingReset) {
      const why = this.pendingReset;
      this.pendingReset = null;
      this.softwareReset(why);
      return;
    }
    if (result.idle) {
      // both cores asleep until `wakeAtNs` (virtual): sleep on the host until that moment is due
      const dueMs = result.wakeAtNs === null ? MAX_SLEEP_MS
        : (result.wakeAtNs - AHEAD_LIMIT_NS) / NANOS_PER_MS - (performance.now() - this.chipStartedHostMs);
      const sleepMs = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, Math.ceil(dueMs)));
      this.sleepHostMs += sleepMs;
      this.schedule(sleepMs);
      return;
    }
    this.schedule(0);
  }

  onHalt(halt) {
    const { clock } = this.chip.mcu;
    clock.tick(HALT_FLUSH_NS);
    this.usbLink.flush();
    this.uartLink.flush();
    this.state = 'halted';
    this.saveFlashIfDue(true);
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
    const uart = this.chip?.mcu.uart[0];
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

  /** Host input arrived: a sleeping chip gets it now rather than when its next timer event is due. */
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
    const chip = this.chip;
    const xip = chip?.xipCache;
    return {
      board_id: this.boardId,
      state: this.state,
      halt: this.halt,
      virtual_time_ns: chip ? Math.round(chip.virtualNanos) : 0,
      host_time_ns: this.imageStartedHostNs ? Number(now - this.imageStartedHostNs) : 0,
      clock_domain: 'rp2040js-virtual',
      cycles: chip ? chip.core0.cycles : 0,
      instructions: this.instructions,
      emulated_mips: Math.round(mips * 100) / 100,
      run_host_ms: Math.round(this.runHostMs),
      sleep_host_ms: Math.round(this.sleepHostMs),
      usb_link: this.usbLinkMode,
      usb_configured: !!this.usbHost?.configured,
      image: this.imageInfo,
      boot: chip ? chip.boot : null,
      bootrom: this.bootrom ? sha256(this.bootrom) : null,
      flash_operations: chip ? chip.flashChip.operations : 0,
      resets: this.resets,
      core1_running: !!chip?.core1.running,
      cores: chip ? [chip.core0, chip.core1.core].map((core) => ({ pc: core.PC >>> 0, sleeping: core.waiting })) : [],
      xip: xip ? { model: true, hits: xip.hits, misses: xip.misses, miss_stall_cycles: xip.missStallCycles }
        : { model: false },
    };
  }

  readMemory(request) {
    const { address, length } = request;
    if (!Number.isInteger(address) || address < 0 || !Number.isInteger(length) || length < 0 ||
        length > READ_MEMORY_MAX_BYTES) {
      throw new Error(`read_memory needs integer "address" and "length" (0..${READ_MEMORY_MAX_BYTES})`);
    }
    if (!this.chip) throw new Error(`board is ${this.state}: no chip running to read`);
    const bytes = this.chip.readMemory(address, length);
    return { address, length, data_hex: Buffer.from(bytes).toString('hex') };
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
      case 'erase_flash':
        this.eraseFlash();
        return { state: this.state };
      case 'read_memory':
        return this.readMemory(request);
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
    this.saveFlashIfDue(true);
    this.usbLink.flush();
    this.uartLink.flush();
    this.usbLink.close();
    this.uartLink.close();
    process.exit(0);
  }

  boot() {
    try {
      this.loadBootrom();
      this.restoreFlash();
      this.applyFirmwareOption();
      if (this.hasFirmware) this.start(); // else BOOTSEL, as a Pico with empty flash
    } catch (err) {
      this.diag(`board not started: ${err.message}`);
      this.state = 'bootsel';
    }
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => this.onControlLine(line));
    rl.on('close', () => this.shutdown());
    this.emit({ event: 'ready' });
  }
}

export function main(argv = process.argv.slice(2)) {
  const board = new PicoBoard(parseArgs(argv));
  board.boot();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
