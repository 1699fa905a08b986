// The Pico's QSPI flash as the RP2040 sees it: a W25Q16 chip behind the SSI, and the XIP block around it.
//
// rp2040js 1.4.1 answers SSI data-register reads with a constant, so the bootrom's flash_range_erase /
// flash_range_program (which MicroPython's littlefs uses) see every operation as aborted. This models the path
// end to end: the SSI's frames and FIFOs, chip select (the SSI's own, or forced through IO_QSPI's SS output
// override as the bootrom does), and the flash chip's command set. XIP reads keep going straight to the same
// byte array, so what a program/erase changes is what the next instruction fetch sees.
//
// Erase, program and status writes take the W25Q16JV's typical times in virtual time: status BUSY stays set and
// further write-type commands are ignored until they have passed, so the bootrom's wait-for-ready loop spins for
// as long as on a Pico (the bytes change at once: nothing reads the array mid-operation, the bootrom has XIP off).
//
// Not modelled: dual/quad data on the SSI path (quad transactions are accepted and answered with the array's
// data but only the command and address matter), the XIP streaming FIFO, worst-case (maximum) timings.

export const FLASH_BYTES = 2 * 1024 * 1024; // W25Q16
const PAGE_BYTES = 256;
const SECTOR_BYTES = 4096;

// W25Q16 commands
const CMD_WRITE_STATUS = 0x01;
const CMD_PAGE_PROGRAM = 0x02;
const CMD_READ = 0x03;
const CMD_WRITE_DISABLE = 0x04;
const CMD_READ_STATUS1 = 0x05;
const CMD_WRITE_ENABLE = 0x06;
const CMD_FAST_READ = 0x0b;
const CMD_READ_STATUS3 = 0x15;
const CMD_SECTOR_ERASE = 0x20;
const CMD_WRITE_STATUS2 = 0x31;
const CMD_READ_STATUS2 = 0x35;
const CMD_VOLATILE_SR_WRITE_ENABLE = 0x50;
const CMD_BLOCK_ERASE_32K = 0x52;
const CMD_CHIP_ERASE = 0x60;
const CMD_CHIP_ERASE_ALT = 0xc7;
const CMD_MANUFACTURER_DEVICE_ID = 0x90;
const CMD_JEDEC_ID = 0x9f;
const CMD_RELEASE_POWER_DOWN = 0xab;
const CMD_READ_UNIQUE_ID = 0x4b;
const CMD_BLOCK_ERASE_64K = 0xd8;
const CMD_QUAD_IO_READ = 0xeb;
const JEDEC_ID = [0xef, 0x40, 0x15]; // Winbond, SPI NOR, 16 Mbit
const DEVICE_ID = 0x14;
const STATUS1_BUSY = 0x01;
const STATUS1_WEL = 0x02;
const STATUS2_QE = 0x02;
const IDLE_BUS_BYTE = 0xff; // nothing drives MISO: the pull-up reads as ones
const ERASE_BYTES = { [CMD_SECTOR_ERASE]: SECTOR_BYTES, [CMD_BLOCK_ERASE_32K]: 32 * 1024,
  [CMD_BLOCK_ERASE_64K]: 64 * 1024 };
// W25Q16JV datasheet, AC electrical characteristics, typical values (the Pico's flash is a W25Q16JV)
const NANOS_PER_MS = 1e6;
const BUSY_NANOS = {
  [CMD_WRITE_STATUS]: 10 * NANOS_PER_MS, // tW
  [CMD_WRITE_STATUS2]: 10 * NANOS_PER_MS,
  [CMD_PAGE_PROGRAM]: 0.4 * NANOS_PER_MS, // tPP
  [CMD_SECTOR_ERASE]: 45 * NANOS_PER_MS, // tSE, 4 KiB
  [CMD_BLOCK_ERASE_32K]: 120 * NANOS_PER_MS, // tBE1
  [CMD_BLOCK_ERASE_64K]: 150 * NANOS_PER_MS, // tBE2
  [CMD_CHIP_ERASE]: 5000 * NANOS_PER_MS, // tCE
  [CMD_CHIP_ERASE_ALT]: 5000 * NANOS_PER_MS,
};

/** The flash chip: bytes in on MOSI while selected, bytes out on MISO; commands act when chip select rises. */
export class W25Q16 {
  /** `data`: the FLASH_BYTES array (shared with XIP reads); `uniqueId`: 8 bytes; `onChange()`: after erase/program;
   * `nowNanos()`: the chip's virtual time, which erase/program durations are counted in. */
  constructor(data, uniqueId, onChange, nowNanos) {
    this.data = data;
    this.uniqueId = uniqueId;
    this.onChange = onChange;
    this.nowNanos = nowNanos;
    this.busyUntilNanos = 0;
    this.status = [0, STATUS2_QE, 0];
    this.selected = false;
    this.bytes = [];
    this.operations = 0;
  }

  select() {
    this.selected = true;
    this.bytes = [];
  }

  address(at = 1) {
    const b = this.bytes;
    return ((b[at] << 16) | (b[at + 1] << 8) | b[at + 2]) & (FLASH_BYTES - 1);
  }

  /** One byte each way. */
  transfer(mosi) {
    if (!this.selected) return IDLE_BUS_BYTE;
    const index = this.bytes.length;
    this.bytes.push(mosi);
    const cmd = this.bytes[0];
    switch (cmd) {
      case CMD_READ_STATUS1: return this.status[0] | (this.busy() ? STATUS1_BUSY : 0);
      case CMD_READ_STATUS2: return this.status[1];
      case CMD_READ_STATUS3: return this.status[2];
      case CMD_JEDEC_ID: return index >= 1 && index <= 3 ? JEDEC_ID[index - 1] : IDLE_BUS_BYTE;
      case CMD_READ:
        return index >= 4 ? this.data[(this.address() + index - 4) & (FLASH_BYTES - 1)] : IDLE_BUS_BYTE;
      case CMD_FAST_READ:
        return index >= 5 ? this.data[(this.address() + index - 5) & (FLASH_BYTES - 1)] : IDLE_BUS_BYTE;
      case CMD_READ_UNIQUE_ID: // 4 dummy bytes, then the 64-bit id
        return index >= 5 && index < 13 ? this.uniqueId[index - 5] : IDLE_BUS_BYTE;
      case CMD_MANUFACTURER_DEVICE_ID:
        if (index === 4) return JEDEC_ID[0];
        return index === 5 ? DEVICE_ID : IDLE_BUS_BYTE;
      case CMD_RELEASE_POWER_DOWN:
        return index >= 4 ? DEVICE_ID : IDLE_BUS_BYTE;
      default:
        return IDLE_BUS_BYTE;
    }
  }

  /** An erase, program or status write still in progress. */
  busy() {
    return this.busyUntilNanos > this.nowNanos();
  }

  /** Chip select released: write-type commands take effect now, as on the real chip. */
  deselect() {
    if (!this.selected) return;
    this.selected = false;
    const b = this.bytes;
    if (b.length === 0) return;
    const cmd = b[0];
    if (this.busy()) return; // while busy the chip acts on nothing but status reads
    const writeEnabled = (this.status[0] & STATUS1_WEL) !== 0;
    let started = writeEnabled; // an operation the chip now carries out (busy for its duration)
    switch (cmd) {
      case CMD_WRITE_ENABLE:
        this.status[0] |= STATUS1_WEL;
        return;
      case CMD_WRITE_DISABLE:
        this.status[0] &= ~STATUS1_WEL;
        return;
      case CMD_VOLATILE_SR_WRITE_ENABLE:
        return;
      case CMD_WRITE_STATUS:
        if (!writeEnabled) return;
        if (b.length >= 2) this.status[0] = b[1] & 0xfc;
        if (b.length >= 3) this.status[1] = b[2];
        break;
      case CMD_WRITE_STATUS2:
        if (!writeEnabled) return;
        if (b.length >= 2) this.status[1] = b[1];
        break;
      case CMD_PAGE_PROGRAM: {
        started = writeEnabled && b.length >= 5;
        if (!started) break;
        const start = this.address();
        const pageBase = start & ~(PAGE_BYTES - 1);
        // past the end of the page the address wraps to its start; programming only clears bits
        for (let i = 4; i < b.length; i++) {
          const at = pageBase | ((start + i - 4) & (PAGE_BYTES - 1));
          this.data[at] &= b[i];
        }
        this.changed();
        break;
      }
      case CMD_SECTOR_ERASE:
      case CMD_BLOCK_ERASE_32K:
      case CMD_BLOCK_ERASE_64K:
        started = writeEnabled && b.length >= 4;
        if (started) this.erase(this.address(), ERASE_BYTES[cmd]);
        break;
      case CMD_CHIP_ERASE:
      case CMD_CHIP_ERASE_ALT:
        if (writeEnabled) this.erase(0, FLASH_BYTES);
        break;
      default:
        return; // reads and unknown commands change nothing
    }
    this.status[0] &= ~STATUS1_WEL; // every program/erase/status write ends with the latch cleared
    if (started) this.busyUntilNanos = this.nowNanos() + BUSY_NANOS[cmd];
  }

  erase(address, bytes) {
    const start = address & ~(bytes - 1);
    this.data.fill(0xff, start, start + bytes);
    this.changed();
  }

  changed() {
    this.operations++;
    this.onChange?.();
  }
}

// SSI (DW_apb_ssi) registers used on the flash path
const SSI_CTRLR0 = 0x00;
const SSI_CTRLR1 = 0x04;
const SSI_SSIENR = 0x08;
const SSI_SER = 0x10;
const SSI_BAUDR = 0x14;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_IMR = 0x2c;
const SSI_ISR = 0x30;
const SSI_RISR = 0x34;
const SSI_ICR = 0x48;
const SSI_DMACR = 0x4c;
const SSI_IDR = 0x58;
const SSI_VERSION_ID = 0x5c;
const SSI_DR0 = 0x60;
const SSI_RX_SAMPLE_DLY = 0xf0;
const SSI_SPI_CTRLR0 = 0xf4;
const SSI_TXD_DRIVE_EDGE = 0xf8;
const SR_TFNF = 1 << 1;
const SR_TFE = 1 << 2;
const SR_RFNE = 1 << 3;
const TMOD_TX_AND_RX = 0;
const TMOD_EEPROM_READ = 3;
const RX_FIFO_DEPTH = 16;
const SSI_ID = 0x51535049;
const SSI_VERSION = 0x3430312a;

/**
 * The SSI in front of the flash. Frames are shifted the moment they are written (the emulator has no bit
 * clock). Chip select under the SSI's own control stays low across consecutive writes and rises at the first
 * write after software read the RX FIFO, when the block is disabled, or when an EEPROM-read transfer ends.
 */
export class SsiFlashPort {
  constructor(flash) {
    this.flash = flash;
    this.regs = new Map();
    this.ctrlr0 = 0;
    this.ctrlr1 = 0;
    this.enabled = 0;
    this.spiCtrlr0 = 0;
    this.rx = [];
    this.autoSelected = false;
    this.readSinceWrite = false;
    this.eepromPending = false;
    this.forced = null; // null: SSI controls CS; 'low' | 'high': IO_QSPI output override
  }

  get frameBits() {
    return ((this.ctrlr0 >>> 16) & 0x1f) + 1;
  }

  get transferMode() {
    return (this.ctrlr0 >>> 8) & 0x3;
  }

  /** IO_QSPI's SS override changed. */
  forceChipSelect(level) {
    if (level === this.forced) return;
    this.finishEeprom();
    if (this.forced === 'low' || this.autoSelected) this.flash.deselect();
    this.autoSelected = false;
    this.forced = level;
    if (level === 'low') this.flash.select();
  }

  endAutoTransaction() {
    this.finishEeprom();
    if (this.autoSelected) {
      this.flash.deselect();
      this.autoSelected = false;
    }
  }

  pushRx(value) {
    if (this.rx.length < RX_FIFO_DEPTH) this.rx.push(value >>> 0);
  }

  shiftFrame(value) {
    const bits = this.frameBits;
    let result = 0;
    for (let shift = bits - 8; shift >= 0; shift -= 8) {
      result = (result << 8) | this.flash.transfer((value >>> shift) & 0xff);
    }
    return result >>> 0;
  }

  writeData(value) {
    if (!this.enabled) return;
    // with CS forced high the frame still shifts (the chip ignores it: shiftFrame reads the idle bus)
    if (this.forced === null) {
      if (this.readSinceWrite || !this.autoSelected) {
        this.endAutoTransaction();
        this.flash.select();
        this.autoSelected = true;
      }
    }
    this.readSinceWrite = false;
    const received = this.shiftFrame(value);
    if (this.transferMode === TMOD_EEPROM_READ) this.eepromPending = true; // data frames follow the TX phase
    else if (this.transferMode === TMOD_TX_AND_RX) this.pushRx(received);
  }

  // EEPROM-read mode: once software has written the command/address frames, NDF+1 frames are clocked in.
  finishEeprom() {
    if (!this.eepromPending) return;
    this.eepromPending = false;
    const frames = (this.ctrlr1 & 0xffff) + 1;
    for (let i = 0; i < frames; i++) this.pushRx(this.shiftFrame(0));
    if (this.forced === null && this.autoSelected) {
      this.flash.deselect();
      this.autoSelected = false;
    }
  }

  readUint32(offset) {
    switch (offset) {
      case SSI_CTRLR0: return this.ctrlr0;
      case SSI_CTRLR1: return this.ctrlr1;
      case SSI_SSIENR: return this.enabled;
      case SSI_TXFLR: return 0;
      case SSI_RXFLR: this.finishEeprom(); return this.rx.length;
      case SSI_SR: this.finishEeprom(); return SR_TFE | SR_TFNF | (this.rx.length ? SR_RFNE : 0);
      case SSI_IDR: return SSI_ID;
      case SSI_VERSION_ID: return SSI_VERSION;
      case SSI_SPI_CTRLR0: return this.spiCtrlr0;
      case SSI_ISR:
      case SSI_RISR:
      case SSI_ICR:
        return 0;
      case SSI_DR0:
        this.finishEeprom();
        this.readSinceWrite = true;
        return this.rx.length ? this.rx.shift() : 0;
      default:
        return this.regs.get(offset) ?? 0;
    }
  }

  writeUint32(offset, value) {
    switch (offset) {
      case SSI_CTRLR0: this.ctrlr0 = value >>> 0; return;
      case SSI_CTRLR1: this.ctrlr1 = value >>> 0; return;
      case SSI_SSIENR:
        this.endAutoTransaction();
        this.enabled = value & 1;
        if (!this.enabled) this.rx = []; // disabling the SSI clears its FIFOs
        return;
      case SSI_SPI_CTRLR0: this.spiCtrlr0 = value >>> 0; return;
      case SSI_DR0: this.writeData(value >>> 0); return;
      case SSI_SER:
      case SSI_BAUDR:
      case SSI_IMR:
      case SSI_DMACR:
      case SSI_RX_SAMPLE_DLY:
      case SSI_TXD_DRIVE_EDGE:
      default:
        this.regs.set(offset, value >>> 0);
    }
  }
}

// IO_QSPI: six pins, each STATUS then CTRL; only the SS pin's output override matters to the flash.
const IO_QSPI_SS_CTRL = 0x0c;
const OUTOVER_SHIFT = 8;
const OUTOVER_LOW = 2;
const OUTOVER_HIGH = 3;

export class IoQspi {
  constructor(ssi) {
    this.ssi = ssi;
    this.regs = new Map();
  }

  readUint32(offset) {
    return this.regs.get(offset) ?? 0;
  }

  writeUint32(offset, value) {
    this.regs.set(offset, value >>> 0);
    if (offset !== IO_QSPI_SS_CTRL) return;
    const outover = (value >>> OUTOVER_SHIFT) & 0x3;
    this.ssi.forceChipSelect(outover === OUTOVER_LOW ? 'low' : outover === OUTOVER_HIGH ? 'high' : null);
  }
}

// XIP_CTRL (0x14000000): enable, flush, status and the hit/access counters.
const XIP_CTRL = 0x00;
const XIP_FLUSH = 0x04;
const XIP_STAT = 0x08;
const XIP_CTR_HIT = 0x0c;
const XIP_CTR_ACC = 0x10;
const XIP_STAT_FLUSH_READY = 1 << 0;
const XIP_STAT_FIFO_EMPTY = 1 << 1;
const XIP_CTRL_RESET = 0x3; // EN | ERR_BADWRITE

export class XipControl {
  /** `cache`: an XipCache or null; its counters back CTR_HIT / CTR_ACC. */
  constructor(cache) {
    this.cache = cache;
    this.ctrl = XIP_CTRL_RESET;
    this.regs = new Map();
  }

  readUint32(offset) {
    switch (offset) {
      case XIP_CTRL: return this.ctrl;
      case XIP_FLUSH: return 0;
      case XIP_STAT: return XIP_STAT_FLUSH_READY | XIP_STAT_FIFO_EMPTY;
      case XIP_CTR_HIT: return this.cache ? this.cache.hits >>> 0 : 0;
      case XIP_CTR_ACC: return this.cache ? (this.cache.hits + this.cache.misses) >>> 0 : 0;
      default: return this.regs.get(offset) ?? 0;
    }
  }

  writeUint32(offset, value) {
    switch (offset) {
      case XIP_CTRL: this.ctrl = value >>> 0; if (this.cache) this.cache.enabled = (value & 1) !== 0; return;
      case XIP_FLUSH: this.cache?.flush(); return;
      case XIP_CTR_HIT: if (this.cache) this.cache.hits = 0; return;
      case XIP_CTR_ACC: if (this.cache) { this.cache.hits = 0; this.cache.misses = 0; } return;
      default: this.regs.set(offset, value >>> 0);
    }
  }
}
