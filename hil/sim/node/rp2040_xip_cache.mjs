// A timing model of the RP2040's XIP cache (switched on with the board option `xip_cache_model`).
//
// rp2040js reads flash in zero wait states. On the chip, XIP accesses go through a 16 KiB two-way
// set-associative cache with 8-byte lines; a miss stalls the bus while the SSI fetches the line from the flash
// chip. This model keeps the tags (not the data: the bytes still come from the flash array) and charges
// `missStallCycles` system clock cycles per miss. The default assumes boot2's quad continuous-read mode at
// clk_sys/2: 8 clocks of address and mode bits, 4 wait clocks, 16 clocks for 8 bytes = 28 flash clocks = 56
// system clocks, plus a few cycles of bus handshake. It is a model to measure against published figures, not a
// calibration.

const LINE_BYTES = 8;
const SETS = 1024; // 16 KiB / 8-byte lines / 2 ways
const DEFAULT_MISS_STALL_CYCLES = 60;
const ALIAS_CACHED = 0x10; // 0x10: cached+allocate, 0x11: cached, no allocate, 0x12/0x13: uncached

export class XipCache {
  constructor({ missStallCycles = DEFAULT_MISS_STALL_CYCLES } = {}) {
    this.missStallCycles = missStallCycles;
    this.enabled = true;
    this.tags = new Int32Array(SETS * 2).fill(-1);
    this.lru = new Uint8Array(SETS); // which way to replace next
    this.hits = 0;
    this.misses = 0;
    this.stall = 0;
  }

  flush() {
    this.tags.fill(-1);
  }

  /** Charge one access to flash address `address` (any XIP alias). */
  access(address) {
    const alias = address >>> 24;
    const line = (address & 0xffffff) >>> 3;
    if (!this.enabled || alias > ALIAS_CACHED + 1) {
      this.misses++;
      this.stall += this.missStallCycles;
      return;
    }
    const set = line & (SETS - 1);
    const at = set * 2;
    if (this.tags[at] === line) { this.hits++; this.lru[set] = 1; return; }
    if (this.tags[at + 1] === line) { this.hits++; this.lru[set] = 0; return; }
    this.misses++;
    this.stall += this.missStallCycles;
    if (alias === ALIAS_CACHED) {
      const way = this.lru[set];
      this.tags[at + way] = line;
      this.lru[set] = way ^ 1;
    }
  }

  takeStallCycles() {
    const stall = this.stall;
    this.stall = 0;
    return stall;
  }

  /** Route the chip's flash reads through the model. */
  attach(mcu) {
    const read32 = mcu.readUint32.bind(mcu);
    const read16 = mcu.readUint16.bind(mcu);
    const read8 = mcu.readUint8.bind(mcu);
    const inFlash = (address) => (address >>> 26) === 0x4; // 0x10000000..0x13ffffff
    mcu.readUint32 = (address) => { if (inFlash(address >>> 0)) this.access(address >>> 0); return read32(address); };
    mcu.readUint16 = (address) => { if (inFlash(address >>> 0)) this.access(address >>> 0); return read16(address); };
    mcu.readUint8 = (address) => { if (inFlash(address >>> 0)) this.access(address >>> 0); return read8(address); };
  }
}
