// Firmware images for the simulated RP2040: ELF, UF2 or raw BIN, turned into the contents of flash, and the
// application vector table found in it (the emulator has no bootrom, so the board process starts the image
// itself, the way the bootrom would after boot2).

export const FLASH_BASE = 0x10000000;
export const FLASH_SIZE_BYTES = 2 * 1024 * 1024; // a Pico's W25Q16 flash
const FLASH_ALIAS_MASK = 0x00ffffff; // XIP aliases 0x10/0x11/0x12/0x13 map to the same flash
export const RAM_BASE = 0x20000000;
export const RAM_END = 0x20042000; // 264 KiB SRAM, striped + SRAM4/5
export const BOOT2_SIZE_BYTES = 256;

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELF_CLASS_32 = 1;
const ELF_DATA_LSB = 1;
const ELF_MACHINE_ARM = 40;
const PT_LOAD = 1;

const UF2_BLOCK_BYTES = 512;
const UF2_MAGIC_START0 = 0x0a324655;
const UF2_MAGIC_START1 = 0x9e5d5157;
const UF2_MAGIC_END = 0x0ab16f30;
const UF2_FLAG_NOT_MAIN_FLASH = 0x00000001;
const UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000;
export const UF2_FAMILY_RP2040 = 0xe48bff56;
const UF2_MAX_PAYLOAD_BYTES = 476;

export class ImageError extends Error {}

/** Which kind of image `bytes` holds: "elf", "uf2" or "bin". */
export function detectFormat(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && view.getUint32(0, true) === ELF_MAGIC) return 'elf';
  if (bytes.length >= UF2_BLOCK_BYTES && view.getUint32(0, true) === UF2_MAGIC_START0 &&
      view.getUint32(4, true) === UF2_MAGIC_START1) return 'uf2';
  return 'bin';
}

function flashOffset(address, what) {
  const alias = address >>> 24;
  if (alias < 0x10 || alias > 0x13) {
    throw new ImageError(`${what} at 0x${address.toString(16)} is outside flash (0x10000000..)`);
  }
  return address & FLASH_ALIAS_MASK;
}

/** Loadable segments of an ELF, placed at their load (physical) addresses. */
function elfSegments(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[4] !== ELF_CLASS_32 || bytes[5] !== ELF_DATA_LSB) {
    throw new ImageError('not a 32-bit little-endian ELF (the RP2040 is thumbv6m)');
  }
  const machine = view.getUint16(18, true);
  if (machine !== ELF_MACHINE_ARM) throw new ImageError(`ELF machine ${machine} is not ARM`);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getUint32(at + 4, true);
    const paddr = view.getUint32(at + 12, true);
    const filesz = view.getUint32(at + 16, true);
    if (filesz === 0) continue; // .bss, .uninit: nothing to program
    if (offset + filesz > bytes.length) throw new ImageError(`ELF segment ${i} runs past the end of the file`);
    const alias = paddr >>> 24;
    if (alias < 0x10 || alias > 0x13) {
      // A segment loaded into RAM by a debugger (no-flash build): the board boots from flash only.
      throw new ImageError(`ELF segment ${i} loads at 0x${paddr.toString(16)}, not in flash: ` +
        'build the image to run from flash');
    }
    segments.push({ address: paddr, data: bytes.subarray(offset, offset + filesz) });
  }
  if (segments.length === 0) throw new ImageError('ELF has no loadable segments');
  return segments;
}

function uf2Segments(bytes) {
  if (bytes.length % UF2_BLOCK_BYTES !== 0) {
    throw new ImageError(`UF2 size ${bytes.length} is not a multiple of ${UF2_BLOCK_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments = [];
  for (let at = 0; at < bytes.length; at += UF2_BLOCK_BYTES) {
    if (view.getUint32(at, true) !== UF2_MAGIC_START0 || view.getUint32(at + 4, true) !== UF2_MAGIC_START1 ||
        view.getUint32(at + UF2_BLOCK_BYTES - 4, true) !== UF2_MAGIC_END) {
      throw new ImageError(`UF2 block ${at / UF2_BLOCK_BYTES} has bad magic numbers`);
    }
    const flags = view.getUint32(at + 8, true);
    if (flags & UF2_FLAG_NOT_MAIN_FLASH) continue;
    if (flags & UF2_FLAG_FAMILY_ID_PRESENT && view.getUint32(at + 28, true) !== UF2_FAMILY_RP2040) continue;
    const target = view.getUint32(at + 12, true);
    const size = view.getUint32(at + 16, true);
    if (size > UF2_MAX_PAYLOAD_BYTES) throw new ImageError(`UF2 block ${at / UF2_BLOCK_BYTES} payload too large`);
    segments.push({ address: target, data: bytes.subarray(at + 32, at + 32 + size) });
  }
  if (segments.length === 0) throw new ImageError('UF2 has no RP2040 flash blocks');
  return segments;
}

/**
 * Parse an image file's bytes (`format`: "elf", "uf2" or "bin"; detected from the content when null). Returns {format, flash: Uint8Array (flash contents from offset 0, erased bytes
 * 0xff), sizeBytes (programmed bytes), endOffset (one past the highest programmed byte)}.
 */
export function parseImage(bytes, format = null) {
  const detected = detectFormat(bytes);
  format = format ?? detected;
  if (!['elf', 'uf2', 'bin'].includes(format)) throw new ImageError(`unsupported image format ${format}`);
  if (format !== 'bin' && detected !== format) throw new ImageError(`file is not a valid ${format.toUpperCase()} image`);
  let segments;
  if (format === 'elf') segments = elfSegments(bytes);
  else if (format === 'uf2') segments = uf2Segments(bytes);
  else segments = [{ address: FLASH_BASE, data: bytes }];
  const flash = new Uint8Array(FLASH_SIZE_BYTES).fill(0xff);
  let endOffset = 0;
  let sizeBytes = 0;
  for (const { address, data } of segments) {
    const offset = flashOffset(address, 'segment');
    if (offset + data.length > FLASH_SIZE_BYTES) {
      throw new ImageError(`image does not fit the ${FLASH_SIZE_BYTES / 1024} KiB flash`);
    }
    flash.set(data, offset);
    endOffset = Math.max(endOffset, offset + data.length);
    sizeBytes += data.length;
  }
  return { format, flash, sizeBytes, endOffset };
}

function looksLikeVectorTable(flash, offset) {
  if (offset + 8 > flash.length) return false;
  const view = new DataView(flash.buffer, flash.byteOffset, flash.byteLength);
  const sp = view.getUint32(offset, true);
  const reset = view.getUint32(offset + 4, true);
  const spInRam = sp > RAM_BASE && sp <= RAM_END && (sp & 0x3) === 0;
  const resetInFlash = (reset & 1) === 1 && reset >>> 24 >= 0x10 && reset >>> 24 <= 0x13;
  return spInRam && resetInFlash;
}

/**
 * Where the application's vector table is: right at the start of flash for an image without boot2, or after
 * the 256-byte boot2 (the usual RP2040 layout). Returns {vtor, sp, pc, hasBoot2}.
 */
export function findVectorTable(flash) {
  const view = new DataView(flash.buffer, flash.byteOffset, flash.byteLength);
  for (const offset of [0, BOOT2_SIZE_BYTES]) {
    if (looksLikeVectorTable(flash, offset)) {
      return {
        vtor: FLASH_BASE + offset,
        sp: view.getUint32(offset, true),
        pc: view.getUint32(offset + 4, true) & ~1,
        hasBoot2: offset === BOOT2_SIZE_BYTES,
      };
    }
  }
  throw new ImageError('no vector table at 0x10000000 or 0x10000100 (initial SP in RAM, odd reset vector in flash)');
}
