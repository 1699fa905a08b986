// The MicroPython wasm module, rewritten so its linear memory is imported and shared.
//
// Why: a Pico delivers Ctrl-C from its USB interrupt by setting two interpreter words (the pending exception
// and the scheduler state, as mp_sched_keyboard_interrupt does); the VM notices at its next branch, even in a
// loop of pure computation. The worker running this build cannot be reached while Python computes, but with
// the memory shared, the board process's main thread can set those words itself, exactly as the interrupt
// handler would. The build's code is unchanged: only the memory's declaration moves from the module's memory
// section to an import ("env", "memory") with the shared flag, keeping its limits; the "memory" export and the
// data segments still refer to memory 0.

const WASM_HEADER_BYTES = 8;
const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const IMPORT_KIND_MEMORY = 0x02;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED_WITH_MAX = 0x03;

function readLeb128(bytes, offset) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, offset];
}

function leb128(value) {
  const out = [];
  do {
    let byte = value % 0x80;
    value = Math.floor(value / 0x80);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

function name(text) {
  const bytes = Buffer.from(text, "utf8");
  return [...leb128(bytes.length), ...bytes];
}

// Returns {bytes, initialPages, maximumPages} of the rewritten module; throws if the module is not shaped as
// expected (one memory with a maximum, defined in the module).
export function shareWasmMemory(original) {
  const sections = [];
  let offset = WASM_HEADER_BYTES;
  while (offset < original.length) {
    const id = original[offset];
    const [size, bodyStart] = readLeb128(original, offset + 1);
    sections.push({ id, body: original.subarray(bodyStart, bodyStart + size) });
    offset = bodyStart + size;
  }
  const memory = sections.find((section) => section.id === SECTION_MEMORY);
  if (!memory) throw new Error("the wasm module defines no memory");
  const [count, limitsAt] = readLeb128(memory.body, 0);
  const flags = memory.body[limitsAt];
  if (count !== 1 || !(flags & LIMITS_HAS_MAX)) throw new Error("expected one memory with a maximum size");
  const [initialPages, maxAt] = readLeb128(memory.body, limitsAt + 1);
  const [maximumPages] = readLeb128(memory.body, maxAt);
  const parts = [original.subarray(0, WASM_HEADER_BYTES)];
  for (const section of sections) {
    if (section.id === SECTION_MEMORY) continue;
    let body = section.body;
    if (section.id === SECTION_IMPORT) {
      const [importCount, entriesAt] = readLeb128(body, 0);
      body = Buffer.from([
        ...leb128(importCount + 1), ...body.subarray(entriesAt),
        ...name("env"), ...name("memory"), IMPORT_KIND_MEMORY, LIMITS_SHARED_WITH_MAX,
        ...leb128(initialPages), ...leb128(maximumPages),
      ]);
    }
    parts.push(Buffer.from([section.id, ...leb128(body.length)]), body);
  }
  return { bytes: Buffer.concat(parts), initialPages, maximumPages };
}
