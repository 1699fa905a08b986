// One life of the simulated Pico's MicroPython interpreter, from (soft or hard) reset to the next soft reset.
//
// Runs in a worker_thread so that Python can run without blocking the board process's event loop: the main
// thread (micropython_board.mjs) keeps answering control requests, relaying output and, when Ctrl-C cannot be
// delivered, terminating this worker. Serial input arrives in a shared byte ring (mp_shared.mjs) that this
// worker reads even while Python runs; output leaves as messages.
//
// The REPL is MicroPython's own (the build's event-driven pyexec) except for what this build cannot do, which
// the bridge does here exactly as shared/runtime/pyexec.c does on a Pico: raw-paste mode (with its flow
// control), the soft-reset sequence, and boot.py/main.py.
import { workerData, parentPort } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import {
  RING_SIZE_BYTES, CTRL_IN_WRITE, CTRL_IN_READ, CTRL_BUSY, CTRL_PARK, CTRL_KBD_SEQ,
  CHAR_CTRL_A, CHAR_CTRL_B, CHAR_CTRL_C, CHAR_CTRL_D, CHAR_CTRL_E, counterDiff, counterAdd,
} from "./mp_shared.mjs";
import { BoardFiles } from "./mp_board_files.mjs";

const {
  ctrl, ring, wasmModule, memory, fsRoot, uniqueIdHex, startRaw, runScripts, pins, setupPath, discoverOnly,
} = workerData;

// pyexec.c: MICROPY_REPL_STDIN_BUFFER_MAX (256), the raw-paste window is half of it.
const RAW_PASTE_WINDOW_BYTES = 128;
const RAW_REPL_BANNER = "raw REPL; CTRL-B to exit\r\n";
const SOFT_REBOOT_TEXT = "MPY: soft reboot\r\n";
const INTERRUPT_CHAR_NONE = -1;
const OUTPUT_FLUSH_BYTES = 4096;
const OUTPUT_FLUSH_AGE_MS = 5;
// Bytes taken from the ring while Python runs wait here for the REPL; beyond this, input stays in the ring
// (like a full USB CDC buffer: the host is held back and a later Ctrl-C is not seen until Python reads).
const PENDING_INPUT_MAX_BYTES = 4096;
const TICKS_CHECK_EVERY_CALLS = 64;
const STATIC_SCAN_BYTES = 1 << 20; // the build's static data (the interpreter state) lies well below this
// Traceback lines naming the bridge's own Python code: a Pico's native code adds none.
const HIDDEN_FRAME_PREFIX = Buffer.from('  File "<board>"');

const textEncoder = new TextEncoder();
const pendingInput = [];
let mp = null;

// ---------------------------------------------------------------- output

class Output {
  constructor() {
    this.chunks = [];
    this.size = 0;
    this.firstAtMs = 0;
    this.lineStart = true;
    this.held = []; // bytes at a line start that may be a hidden traceback line
    this.hiding = false;
    this.dropBytes = 0; // leading interpreter output to drop (the "OK" of a raw-paste submission)
    this.muted = false; // output discarded (the interpreter's greeting when it starts in raw REPL)
    this.tap = null; // when an array, also receives every byte sent
    this.previousByte = 0;
  }

  // Bytes from the bridge itself: never filtered.
  emit(bytes) {
    this.releaseHeld();
    this.push(bytes);
  }

  emitText(text) {
    this.emit(textEncoder.encode(text));
  }

  // One byte of interpreter output. A Pico's stdout is "cooked" (mp_hal_stdout_tx_strn_cooked turns "\n"
  // into "\r\n"); this build's is not, while the REPL's own line ends are already "\r\n": cook lone "\n".
  fromInterpreter(byte) {
    if (this.dropBytes > 0) {
      this.dropBytes--;
      return;
    }
    const previous = this.previousByte;
    this.previousByte = byte;
    if (byte === 0x0a && previous !== 0x0d) this.filter(0x0d);
    this.filter(byte);
    // Each line leaves at once: Python may compute for long after printing it, with no hook to flush later.
    // A line end is also where a printing loop notices Ctrl-C.
    if (byte === 0x0a) {
      this.flush();
      checkInterruptWhileRunning();
    }
  }

  filter(byte) {
    if (this.hiding) {
      if (byte === 0x0a) {
        this.hiding = false;
        this.lineStart = true;
      }
      return;
    }
    if (this.lineStart || this.held.length) {
      this.held.push(byte);
      this.lineStart = false;
      const n = this.held.length;
      if (n <= HIDDEN_FRAME_PREFIX.length && HIDDEN_FRAME_PREFIX[n - 1] === byte) {
        if (n === HIDDEN_FRAME_PREFIX.length) {
          this.held = [];
          this.hiding = true;
        }
        return;
      }
      const held = this.held;
      this.held = [];
      this.push(Uint8Array.from(held));
      this.lineStart = byte === 0x0a;
      return;
    }
    this.lineStart = byte === 0x0a;
    this.push(Uint8Array.of(byte));
  }

  releaseHeld() {
    if (this.held.length) {
      const held = this.held;
      this.held = [];
      this.push(Uint8Array.from(held));
    }
  }

  push(bytes) {
    if (!bytes.length || this.muted) return;
    if (this.tap) this.tap.push(bytes);
    if (!this.size) this.firstAtMs = performance.now();
    this.chunks.push(bytes);
    this.size += bytes.length;
    if (this.size >= OUTPUT_FLUSH_BYTES || performance.now() - this.firstAtMs >= OUTPUT_FLUSH_AGE_MS) {
      this.flush();
    }
  }

  flush() {
    if (!this.size) return;
    const data = new Uint8Array(this.size); // its own buffer (not Node's shared pool), so it can be transferred
    let offset = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    this.chunks = [];
    this.size = 0;
    parentPort.postMessage({ type: "out", data }, [data.buffer]);
  }
}

const out = new Output();

// ---------------------------------------------------------------- input

function ringAvailable() {
  return counterDiff(Atomics.load(ctrl, CTRL_IN_WRITE), Atomics.load(ctrl, CTRL_IN_READ));
}

function takeFromRing() {
  const readAt = Atomics.load(ctrl, CTRL_IN_READ);
  const byte = ring[(readAt >>> 0) % RING_SIZE_BYTES];
  Atomics.store(ctrl, CTRL_IN_READ, counterAdd(readAt, 1));
  return byte;
}

// Next input byte for the REPL; waits (flushing output first) until one arrives.
function nextInputByte() {
  if (pendingInput.length) return pendingInput.shift();
  while (ringAvailable() <= 0) {
    out.flush();
    Atomics.wait(ctrl, CTRL_IN_WRITE, Atomics.load(ctrl, CTRL_IN_WRITE));
  }
  return takeFromRing();
}

function interruptCharEnabled() {
  return mp !== null && mp._module._mp_hal_get_interrupt_char() !== INTERRUPT_CHAR_NONE;
}

// While Python runs: take arrived bytes as a Pico's USB CDC driver does, turning Ctrl-C into an interrupt.
// Returns true if a Ctrl-C was seen.
function pollInputWhileRunning() {
  let interrupted = false;
  while (ringAvailable() > 0 && pendingInput.length < PENDING_INPUT_MAX_BYTES) {
    const byte = takeFromRing();
    if (byte === CHAR_CTRL_C && interruptCharEnabled()) {
      interrupted = true;
    } else {
      pendingInput.push(byte);
    }
  }
  return interrupted;
}

// Schedules KeyboardInterrupt on a Ctrl-C, as a Pico's USB IRQ would; Python raises it at its next branch.
function checkInterruptWhileRunning() {
  if (mp && pollInputWhileRunning()) mp._module._mp_sched_keyboard_interrupt();
}

// Called from the interpreter's clock reads.
let ticksCalls = 0;
function onTicksRead() {
  if (++ticksCalls % TICKS_CHECK_EVERY_CALLS) return;
  if (out.size && performance.now() - out.firstAtMs >= OUTPUT_FLUSH_AGE_MS) out.flush();
  checkInterruptWhileRunning();
}

// Sleep without burning the host CPU. Ends early on Ctrl-C: returns true if this worker saw it (Python then
// raises KeyboardInterrupt), false if the board process already delivered it (it is pending in the VM).
function sleepUs(us) {
  out.flush();
  const endMs = performance.now() + Math.max(0, Number(us)) / 1000;
  const kbdSeq = Atomics.load(ctrl, CTRL_KBD_SEQ);
  for (;;) {
    if (Atomics.load(ctrl, CTRL_KBD_SEQ) !== kbdSeq) return false;
    if (pollInputWhileRunning()) return true;
    const remainingMs = endMs - performance.now();
    if (remainingMs <= 0) return false;
    const writeAt = Atomics.load(ctrl, CTRL_IN_WRITE);
    const inputHeldBack = pendingInput.length >= PENDING_INPUT_MAX_BYTES
      || counterDiff(writeAt, Atomics.load(ctrl, CTRL_IN_READ)) > 0;
    if (inputHeldBack) {
      Atomics.wait(ctrl, CTRL_KBD_SEQ, kbdSeq, remainingMs); // wake only for a delivered Ctrl-C
    } else {
      Atomics.wait(ctrl, CTRL_IN_WRITE, writeAt, remainingMs);
    }
  }
}

// ---------------------------------------------------------------- interpreter

function hookImports(imports) {
  const env = imports.env;
  const ticksMs = env.mp_js_ticks_ms;
  env.mp_js_ticks_ms = () => {
    onTicksRead();
    return ticksMs();
  };
}

// The build instantiates its wasm itself: hand it the module compiled once by the board process (its memory
// shared with the board process, mp_wasm_shared_memory.mjs), with the clock import wrapped so a running script
// notices Ctrl-C whenever it reads the clock.
const instantiate = WebAssembly.instantiate;
let wasmExports = null;
WebAssembly.instantiate = async (_source, imports) => {
  hookImports(imports);
  imports.env.memory = memory;
  const instance = await instantiate(wasmModule, imports);
  wasmExports = instance.exports;
  return { instance, module: wasmModule };
};

const files = new BoardFiles(fsRoot);

const boardApi = {
  fs: (op, argsJson) => files.call(op, JSON.parse(argsJson)),
  sleep_us: (us) => sleepUs(us),
  ticks_us: () => Math.floor(performance.now() * 1000) % 2 ** 30,
  unique_id: () => uniqueIdHex,
  pin_get: (pin) => JSON.stringify(pins[pin] ?? [0, 0, 0]),
  pin_set: (pin, mode, pull, value) => {
    pins[pin] = [mode, pull ?? 0, value];
    parentPort.postMessage({ type: "pin", pin, mode, pull: pull ?? 0, value });
    return null;
  },
  hard_reset: () => {
    out.flush();
    parentPort.postMessage({ type: "hard-reset", reason: "machine.reset()" });
    for (;;) Atomics.wait(ctrl, CTRL_PARK, 0); // the board process terminates this worker
  },
};

mp = await loadMicroPython({
  stdout: (bytes) => {
    for (const byte of bytes) out.fromInterpreter(byte);
  },
  linebuffer: false,
});
if (discoverOnly) {
  // A throwaway interpreter: the Ctrl-C deliveries below leave traces (a used traceback, the scheduler state).
  parentPort.postMessage({ type: "interrupt-words", words: discoverInterruptWords() });
  process.exit(0); // ends this worker thread only
}
mp.registerJsModule("_board", boardApi);
mp.globals.set("_board_setup_source", readFileSync(setupPath, "utf8"));
mp.runPython("exec(compile(_board_setup_source, '<board>', 'exec'), {'__name__': '_board_setup'})\n"
  + "del _board_setup_source");

// Finds where this build keeps the words a Ctrl-C sets, by watching memory change while the interpreter does
// the same thing twice (the layout of static data is the same for every instance of the module):
// mp_interrupt_char (set by micropython.kbd_intr), and the pending exception, scheduler state and traceback
// pointer that mp_sched_keyboard_interrupt writes. Returns null unless each is found exactly once.
function discoverInterruptWords() {
  const snap = () => new Int32Array(memory.buffer.slice(0, STATIC_SCAN_BYTES));
  const module = mp._module;
  const stackLow = wasmExports.emscripten_stack_get_end();
  const stackHigh = wasmExports.emscripten_stack_get_base();
  const outsideStack = (address) => address < stackLow || address >= stackHigh;
  const kbdIntr = (char) => mp.runPython(`__import__('micropython').kbd_intr(${char})`);
  const raisePending = () => {
    try {
      mp.runPython("[0 for _ in range(2)]"); // a loop (a branch) that binds no global
    } catch (error) {
      if (error.name !== "PythonError") throw error;
    }
  };
  const interruptCharValues = [CHAR_CTRL_C, CHAR_CTRL_E, INTERRUPT_CHAR_NONE];
  const states = [snap()];
  for (const value of interruptCharValues) {
    kbdIntr(value);
    states.push(snap());
  }
  const interruptChar = [];
  for (let i = 0; i < states[0].length; i++) {
    if (interruptCharValues.every((value, step) => states[step + 1][i] === value) && outsideStack(i * 4)) {
      interruptChar.push(i * 4);
    }
  }
  const diff = (before, after) => {
    const changes = [];
    for (let i = 0; i < before.length; i++) {
      if (before[i] !== after[i] && outsideStack(i * 4)) {
        changes.push({ address: i * 4, from: before[i], to: after[i] });
      }
    }
    return changes;
  };
  // First delivery, on a fresh interpreter: the pending exception (0 -> the exception) and the scheduler state
  // (MP_SCHED_IDLE -> MP_SCHED_PENDING).
  let before = snap();
  module._mp_sched_keyboard_interrupt();
  const first = diff(before, snap());
  raisePending(); // now the exception carries a traceback, so clearing it shows up in the second delivery
  before = snap();
  module._mp_sched_keyboard_interrupt();
  const second = diff(before, snap());
  raisePending();
  const pending = first.filter((c) => c.from === 0 && c.to !== 0);
  const sched = first.filter((c) => c.from !== 0 && c.to !== c.from && !pending.includes(c));
  const traceback = second.filter((c) => c.to === 0 && c.address !== sched[0]?.address);
  if (interruptChar.length !== 1 || pending.length !== 1 || sched.length !== 1 || traceback.length !== 1
      || first.length !== 2) {
    return null;
  }
  return {
    interruptChar: interruptChar[0],
    pendingException: pending[0].address, kbdException: pending[0].to,
    schedState: sched[0].address, schedIdle: sched[0].from, schedPending: sched[0].to,
    tracebackData: traceback[0].address,
  };
}

function busy(fn) {
  Atomics.store(ctrl, CTRL_BUSY, 1);
  try {
    return fn();
  } finally {
    Atomics.store(ctrl, CTRL_BUSY, 0);
  }
}

function runScript(name) {
  return busy(() => mp.runPython(`__import__('_board_runner').run(${JSON.stringify(name)}, globals())`));
}

function softReset(rawMode) {
  out.emitText(SOFT_REBOOT_TEXT);
  out.flush();
  parentPort.postMessage({ type: "soft-reset", raw: rawMode });
  for (;;) Atomics.wait(ctrl, CTRL_PARK, 0); // the board process starts the next interpreter
}

// Feeds bytes to the interpreter's REPL; returns its result (non-zero: leave the REPL for a soft reset).
function feed(bytes) {
  let result = 0;
  busy(() => {
    for (const byte of bytes) {
      result = mp.replProcessChar(byte);
      if (result) break;
    }
  });
  return result;
}

// ---------------------------------------------------------------- start-up: as ports/rp2/main.c

if (runScripts) {
  if (runScript("boot.py")) softReset(startRaw);
  if (!startRaw && runScript("main.py")) softReset(false);
}
out.releaseHeld();
{
  if (startRaw) {
    // Switch the interpreter to raw REPL silently, then greet as pyexec_raw_repl does.
    out.muted = true;
    mp.replInit();
    feed([CHAR_CTRL_A]);
    out.releaseHeld();
    out.muted = false;
    out.emitText(RAW_REPL_BANNER + ">");
  } else {
    // The event-driven REPL greets as on a Ctrl-B: drop that leading "\r\n", as a Pico's boot banner has none.
    out.dropBytes = 2;
    mp.replInit();
    out.dropBytes = 0;
  }
}
out.flush();
parentPort.postMessage({ type: "ready", raw: startRaw });

// ---------------------------------------------------------------- the REPL loop

const ReplMode = Object.freeze({ FRIENDLY: 0, RAW: 1, RAW_PASTE: 2 });
let mode = startRaw ? ReplMode.RAW : ReplMode.FRIENDLY;
let rawLine = [];
let pasteData = [];
let pasteWindowRemain = 0;

function capture(fn) {
  out.releaseHeld();
  out.tap = [];
  try {
    const result = fn();
    out.releaseHeld();
    return { result, produced: Buffer.concat(out.tap).toString("latin1") };
  } finally {
    out.tap = null;
  }
}

// Executes a raw REPL submission. The interpreter's "OK" is sent by the bridge before the code runs (a
// script that computes forever must not hold it back); a raw-paste submission has none.
function executeRaw(code, viaRawPaste) {
  if (viaRawPaste && !code.length) {
    out.emitText("\x04\x04>"); // nothing to run (the interpreter would take an empty line for a soft reset)
    return;
  }
  if (!viaRawPaste) out.emitText("OK");
  out.flush();
  out.dropBytes = 2;
  const result = feed([...code, CHAR_CTRL_D]);
  out.dropBytes = 0;
  if (result) softReset(true);
}

function onFriendlyByte(byte) {
  if (byte === CHAR_CTRL_A) {
    const { result, produced } = capture(() => feed([byte]));
    if (result) softReset(false);
    if (produced === "\r\n" + RAW_REPL_BANNER + ">") {
      mode = ReplMode.RAW;
      rawLine = [];
    }
    return;
  }
  if (feed([byte])) softReset(false);
}

// pyexec_raw_repl_process_char, with the raw line kept here so raw-paste can be recognised.
function onRawByte(byte) {
  if (byte === CHAR_CTRL_A) {
    if (rawLine.length === 2 && rawLine[0] === CHAR_CTRL_E) {
      if (rawLine[1] === "A".charCodeAt(0)) {
        out.emit(Uint8Array.of(0x52, 0x01, RAW_PASTE_WINDOW_BYTES & 0xff, RAW_PASTE_WINDOW_BYTES >> 8, 0x01));
        mode = ReplMode.RAW_PASTE;
        pasteData = [];
        pasteWindowRemain = RAW_PASTE_WINDOW_BYTES;
      } else {
        out.emitText("R\x00>"); // an unsupported raw-paste command
      }
    } else {
      out.emitText(RAW_REPL_BANNER + ">");
    }
    rawLine = [];
  } else if (byte === CHAR_CTRL_B) {
    rawLine = [];
    mode = ReplMode.FRIENDLY;
    feed([byte]); // the interpreter leaves raw REPL and prints the banner
  } else if (byte === CHAR_CTRL_C) {
    rawLine = [];
  } else if (byte === CHAR_CTRL_D) {
    const code = rawLine;
    rawLine = [];
    if (!code.length) {
      out.emitText("OK\r\n");
      softReset(true);
    }
    executeRaw(code, false);
  } else {
    rawLine.push(byte);
  }
}

// mp_reader_stdin_readbyte: the host may send one window more each time the board has consumed one.
function onRawPasteByte(byte) {
  if (byte === CHAR_CTRL_D) {
    out.emit(Uint8Array.of(CHAR_CTRL_D));
    mode = ReplMode.RAW;
    executeRaw(pasteData, true);
    pasteData = [];
    return;
  }
  if (byte === CHAR_CTRL_C) {
    // The compiler is interrupted while reading: end of data, then the KeyboardInterrupt, as pyexec prints it.
    out.emitText("\x04\x04KeyboardInterrupt: \r\n\x04>");
    mode = ReplMode.RAW;
    pasteData = [];
    return;
  }
  pasteData.push(byte);
  if (--pasteWindowRemain === 0) {
    out.emit(Uint8Array.of(0x01));
    pasteWindowRemain = RAW_PASTE_WINDOW_BYTES;
  }
}

for (;;) {
  const byte = nextInputByte();
  if (mode === ReplMode.FRIENDLY) onFriendlyByte(byte);
  else if (mode === ReplMode.RAW) onRawByte(byte);
  else onRawPasteByte(byte);
  if (!pendingInput.length && ringAvailable() <= 0) out.flush();
}
