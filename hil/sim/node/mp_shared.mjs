// Layout of the memory shared between the MicroPython board process (main thread) and its interpreter worker.
//
// Serial input travels in a byte ring written by the main thread and read by the worker, so the worker can
// take bytes (and see Ctrl-C) while it is busy running Python, when it cannot receive messages.

export const RING_SIZE_BYTES = 65536;

// Indices into the Int32Array control block.
export const CTRL_IN_WRITE = 0; // bytes written into the ring so far (main thread), wraps at 2**31
export const CTRL_IN_READ = 1; // bytes taken from the ring so far (worker)
export const CTRL_BUSY = 2; // 1 while the worker runs the interpreter (REPL input or a script)
export const CTRL_PARK = 3; // the worker waits on this forever after asking for a hard reset
export const CTRL_KBD_SEQ = 4; // bumped by the main thread each time it delivers a KeyboardInterrupt
export const CTRL_SLOTS = 5;

export const CHAR_CTRL_A = 0x01;
export const CHAR_CTRL_B = 0x02;
export const CHAR_CTRL_C = 0x03;
export const CHAR_CTRL_D = 0x04;
export const CHAR_CTRL_E = 0x05;

export function createSharedState() {
  return {
    ctrl: new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * Int32Array.BYTES_PER_ELEMENT)),
    ring: new Uint8Array(new SharedArrayBuffer(RING_SIZE_BYTES)),
  };
}

// Counters wrap at 2**31; differences stay right as long as fewer than RING_SIZE_BYTES are in flight.
export function counterDiff(later, earlier) {
  return (later - earlier) | 0;
}

export function counterAdd(counter, n) {
  return (counter + n) | 0;
}
