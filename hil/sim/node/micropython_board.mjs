// A simulated Raspberry Pi Pico running MicroPython 1.27 (the WebAssembly build), as a board process of the
// simulated bench. See docs/sim-bench.md ("Board process contract") and docs/sim-micropython.md.
//
//   node micropython_board.mjs --board-id ID --state-dir DIR [--options-json JSON]
//
// fd 3: the board's USB serial link (the REPL), a Unix stream socket of raw bytes.
// stdin/stdout: JSON-line control requests and replies/events. stderr: diagnostics.
// DIR/fs/ is the board's flash filesystem. The process exits when stdin closes.
//
// The interpreter runs in a worker thread (micropython_worker.mjs), one worker per interpreter life: a soft
// reset starts a new worker, as does a hard reset (the `reset` command, machine.reset(), or a Ctrl-C the
// interpreter could not act on within the interrupt deadline, e.g. inside one long native operation).
// Ctrl-C is delivered here, on arrival, as a Pico's USB interrupt delivers it: into the interpreter's shared
// memory (mp_wasm_shared_memory.mjs), so even a loop of pure computation raises KeyboardInterrupt.
import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import crypto from "node:crypto";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import {
  RING_SIZE_BYTES, CTRL_IN_WRITE, CTRL_IN_READ, CTRL_BUSY, CTRL_KBD_SEQ, CHAR_CTRL_C, createSharedState,
  counterDiff, counterAdd,
} from "./mp_shared.mjs";
import { shareWasmMemory } from "./mp_wasm_shared_memory.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERIAL_FD = 3;
const UNIQUE_ID_BYTES = 8;
const INPUT_RETRY_MS = 2; // while the ring is full, how often to try again
const DEFAULT_INTERRUPT_DEADLINE_MS = 100; // a Pico acts on Ctrl-C within microseconds
const FAILED_STARTS_BEFORE_HALT = 3; // an interpreter that keeps failing to start is not restarted forever
const PIN_MODE_NAMES = ["IN", "OUT", "OPEN_DRAIN", "ALT"];
const PIN_PULL_NAMES = [null, "PULL_UP", "PULL_DOWN"];

function parseArgs(argv) {
  const args = { boardId: null, stateDir: null, options: {} };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    if (flag === "--board-id") args.boardId = value;
    else if (flag === "--state-dir") args.stateDir = value;
    else if (flag === "--options-json") args.options = JSON.parse(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!args.boardId || !args.stateDir) throw new Error("--board-id and --state-dir are required");
  return args;
}

function diag(text) {
  process.stderr.write(`[${new Date().toISOString()}] ${text}\n`);
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

// A Pico's USB serial number is its flash unique id in hex: derive one from the other when possible.
function uniqueIdFor(boardId, serialNumber) {
  if (/^[0-9A-Fa-f]{16}$/.test(serialNumber ?? "")) return Buffer.from(serialNumber, "hex");
  return crypto.createHash("sha256").update(boardId).digest().subarray(0, UNIQUE_ID_BYTES);
}

class MicroPythonBoard {
  constructor({ boardId, stateDir, options }) {
    this.boardId = boardId;
    this.fsRoot = path.join(path.resolve(stateDir), "fs");
    fs.mkdirSync(this.fsRoot, { recursive: true });
    this.interruptDeadlineMs = options.interrupt_deadline_ms ?? DEFAULT_INTERRUPT_DEADLINE_MS;
    this.uniqueIdHex = uniqueIdFor(boardId, options.serial_number).toString("hex");
    this.shared = createSharedState();
    this.pendingInput = []; // serial bytes not yet in the ring (it was full)
    this.inputTimer = null;
    this.pins = {}; // pin number -> [mode, pull, value], kept across soft resets as the hardware keeps them
    this.worker = null;
    this.workerGeneration = 0;
    this.bootCount = 0;
    this.readySent = false;
    this.failedStarts = 0;
    this.halt = null;
    this.startedAtNs = process.hrtime.bigint();
    const require = createRequire(import.meta.url);
    const buildDir = path.dirname(require.resolve("@micropython/micropython-webassembly-pyscript/package.json"));
    const wasmPath = path.join(buildDir, "micropython.wasm");
    const shared = shareWasmMemory(fs.readFileSync(wasmPath));
    this.wasmModule = new WebAssembly.Module(shared.bytes);
    this.memoryPages = { initial: shared.initialPages, maximum: shared.maximumPages };
    this.memoryWords = null; // the current interpreter's memory, as 32-bit words
    this.interruptWords = undefined; // where a Ctrl-C is delivered (see discoverInterruptWords), or null
  }

  attachSerial(socket) {
    this.serial = socket;
    socket.on("data", (data) => this.onSerialData(data));
    socket.on("error", (error) => diag(`serial link error: ${error.message}`));
    socket.on("end", () => diag("serial link closed by the supervisor"));
  }

  // ---- interpreter lifecycle
  workerData(memory, extra) {
    return {
      ctrl: this.shared.ctrl, ring: this.shared.ring, wasmModule: this.wasmModule, memory, fsRoot: this.fsRoot,
      uniqueIdHex: this.uniqueIdHex, pins: this.pins, setupPath: path.join(HERE, "mp_board_setup.py"), ...extra,
    };
  }

  // Once per process, a throwaway interpreter finds where Ctrl-C is delivered (micropython_worker.mjs).
  discoverInterruptWords() {
    return new Promise((resolve) => {
      const memory = new WebAssembly.Memory({ ...this.memoryPages, shared: true });
      const worker = new Worker(path.join(HERE, "micropython_worker.mjs"),
        { workerData: this.workerData(memory, { discoverOnly: true }), stdout: true, stderr: true });
      worker.stderr.on("data", (data) => diag(`interpreter: ${data.toString().trimEnd()}`));
      worker.on("message", (message) => {
        if (message.type !== "interrupt-words") return;
        this.interruptWords = message.words;
        diag(`interrupt words: ${JSON.stringify(message.words)}`);
        if (!message.words) diag("interpreter words for Ctrl-C not found: Ctrl-C reaches only sleeps and prints");
      });
      worker.on("error", (error) => diag(`Ctrl-C discovery failed: ${error.stack ?? error}`));
      worker.on("exit", () => {
        this.interruptWords ??= null;
        resolve();
      });
    });
  }

  startInterpreter({ raw = false, runScripts = true } = {}) {
    const generation = ++this.workerGeneration;
    this.bootCount++;
    const memory = new WebAssembly.Memory({ ...this.memoryPages, shared: true });
    this.memoryWords = new Int32Array(memory.buffer);
    const worker = new Worker(path.join(HERE, "micropython_worker.mjs"), {
      workerData: this.workerData(memory, { startRaw: raw, runScripts }),
      stdout: true, // the build prints nothing outside the REPL; anything else is a diagnostic
      stderr: true,
    });
    worker.stdout.on("data", (data) => diag(`interpreter: ${data.toString().trimEnd()}`));
    worker.stderr.on("data", (data) => diag(`interpreter: ${data.toString().trimEnd()}`));
    worker.on("message", (message) => {
      if (generation === this.workerGeneration) this.onWorkerMessage(message);
    });
    worker.on("error", (error) => {
      if (generation !== this.workerGeneration) return;
      diag(`interpreter failed: ${error.stack ?? error}`);
      if (++this.failedStarts >= FAILED_STARTS_BEFORE_HALT) {
        this.stopInterpreter();
        this.halt = { reason: "interpreter-failure", pc: null, message: String(error.message) };
        this.writeSerial(`\r\n[sim] the interpreter failed ${this.failedStarts} times: halted (${error.message})\r\n`);
        send({ event: "halt", ...this.halt });
        return;
      }
      this.writeSerial(`\r\n[sim] the interpreter failed (${error.message}): hard reset\r\n`);
      this.hardReset({ reason: "interpreter failure", reconnectUsb: false });
    });
    this.worker = worker;
  }

  stopInterpreter() {
    this.workerGeneration++;
    Atomics.store(this.shared.ctrl, CTRL_BUSY, 0);
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }

  onWorkerMessage(message) {
    switch (message.type) {
      case "out":
        this.writeSerial(message.data);
        break;
      case "ready":
        this.failedStarts = 0;
        if (!this.readySent) send({ event: "ready" });
        this.readySent = true;
        break;
      case "pin":
        this.pins[message.pin] = [message.mode, message.pull, message.value];
        break;
      case "soft-reset":
        this.stopInterpreter();
        this.startInterpreter({ raw: message.raw });
        break;
      case "hard-reset":
        this.hardReset({ reason: message.reason, reconnectUsb: true });
        break;
      default:
        diag(`unknown message from the interpreter: ${JSON.stringify(message)}`);
    }
  }

  // A hard reset: the interpreter restarts from scratch (GPIO state too); the flash (DIR/fs) stays.
  hardReset({ reason, reconnectUsb, runScripts = true, dropInputThrough = null }) {
    diag(`hard reset: ${reason}`);
    this.halt = null;
    this.stopInterpreter();
    this.pins = {};
    if (dropInputThrough !== null) Atomics.store(this.shared.ctrl, CTRL_IN_READ, dropInputThrough);
    if (reconnectUsb) {
      // A Pico's USB device re-enumerates on reset: the host sees its port go and come back.
      this.discardInput();
      send({ event: "usb-reconnect" });
    }
    this.startInterpreter({ raw: false, runScripts });
  }

  discardInput() {
    this.pendingInput = [];
    Atomics.store(this.shared.ctrl, CTRL_IN_READ, Atomics.load(this.shared.ctrl, CTRL_IN_WRITE));
  }

  // ---- serial link
  writeSerial(data) {
    if (this.serial && !this.serial.destroyed) this.serial.write(data);
  }

  onSerialData(data) {
    this.pendingInput.push(data);
    this.moveInputToRing();
  }

  // Copies pending serial bytes into the ring as space allows; holds the socket back while the ring is full,
  // so the host is flow-controlled as by a busy Pico's USB endpoint. A Ctrl-C that arrives while Python runs
  // is taken out of the stream and delivered as a KeyboardInterrupt, as a Pico's USB interrupt handler does.
  moveInputToRing() {
    const { ctrl, ring } = this.shared;
    while (this.pendingInput.length) {
      const chunk = this.pendingInput[0];
      let writeAt = Atomics.load(ctrl, CTRL_IN_WRITE);
      let free = RING_SIZE_BYTES - counterDiff(writeAt, Atomics.load(ctrl, CTRL_IN_READ));
      let used = 0;
      while (used < chunk.length && free > 0) {
        const byte = chunk[used++];
        if (byte === CHAR_CTRL_C && this.deliverInterrupt()) continue;
        ring[(writeAt >>> 0) % RING_SIZE_BYTES] = byte;
        if (byte === CHAR_CTRL_C) this.watchInterruptByte(writeAt);
        writeAt = counterAdd(writeAt, 1);
        free--;
      }
      Atomics.store(ctrl, CTRL_IN_WRITE, writeAt);
      Atomics.notify(ctrl, CTRL_IN_WRITE);
      if (used < chunk.length) {
        this.pendingInput[0] = chunk.subarray(used);
        break;
      }
      this.pendingInput.shift();
    }
    if (this.pendingInput.length) {
      this.serial?.pause();
      if (!this.inputTimer) {
        this.inputTimer = setTimeout(() => {
          this.inputTimer = null;
          this.moveInputToRing();
        }, INPUT_RETRY_MS);
      }
    } else {
      this.serial?.resume();
    }
  }

  // mp_sched_keyboard_interrupt, done from outside: if the interpreter's interrupt character is Ctrl-C (Python
  // is running), clear the KeyboardInterrupt's old traceback, make it the pending exception and mark the
  // scheduler pending; the VM raises it at its next branch. Returns false if Python is not running (the byte
  // is then ordinary input, e.g. for the REPL) or the words are unknown.
  deliverInterrupt() {
    const words = this.interruptWords;
    const memory = this.memoryWords;
    if (!words || !memory || Atomics.load(memory, words.interruptChar / 4) !== CHAR_CTRL_C) return false;
    Atomics.store(memory, words.tracebackData / 4, 0);
    Atomics.store(memory, words.pendingException / 4, words.kbdException);
    Atomics.compareExchange(memory, words.schedState / 4, words.schedIdle, words.schedPending);
    Atomics.add(this.shared.ctrl, CTRL_KBD_SEQ, 1);
    Atomics.notify(this.shared.ctrl, CTRL_KBD_SEQ); // a sleeping script wakes to raise it
    Atomics.notify(this.shared.ctrl, CTRL_IN_WRITE);
    this.watchDelivered();
    return true;
  }

  // A delivered KeyboardInterrupt still pending after the deadline, while Python runs: the interpreter is
  // inside something that never reaches a branch (one long native operation, or waiting for stdin, which this
  // build cannot serve). A Ctrl-C left in the stream (no delivery) and not taken by the deadline while Python
  // runs means the same. Either way: recover.
  watchDelivered() {
    const generation = this.workerGeneration;
    const words = this.interruptWords;
    setTimeout(() => {
      if (generation !== this.workerGeneration || !Atomics.load(this.shared.ctrl, CTRL_BUSY)) return;
      if (Atomics.load(this.memoryWords, words.pendingException / 4) === 0) return;
      this.recoverFromStuckInterpreter(null);
    }, this.interruptDeadlineMs);
  }

  watchInterruptByte(position) {
    const generation = this.workerGeneration;
    setTimeout(() => {
      const { ctrl } = this.shared;
      const taken = counterDiff(Atomics.load(ctrl, CTRL_IN_READ), position) > 0;
      if (taken || generation !== this.workerGeneration || !Atomics.load(ctrl, CTRL_BUSY)) return;
      this.recoverFromStuckInterpreter(counterAdd(position, 1));
    }, this.interruptDeadlineMs);
  }

  // The bench's documented fallback: a hard reset that skips boot.py and main.py, announced on the serial link.
  recoverFromStuckInterpreter(dropInputThrough) {
    this.writeSerial(`\r\n[sim] Ctrl-C not taken within ${this.interruptDeadlineMs} ms: the WebAssembly `
      + "interpreter cannot be interrupted here. Hard reset (boot.py and main.py skipped).\r\n");
    this.hardReset({ reason: "Ctrl-C deadline", reconnectUsb: false, runScripts: false, dropInputThrough });
  }

  // ---- control
  handle(request) {
    switch (request.cmd) {
      case "status":
        return {
          state: this.halt ? "halted" : "running", halt: this.halt, boots: this.bootCount,
          host_time_ns: Number(process.hrtime.bigint() - this.startedAtNs),
        };
      case "reset":
        this.hardReset({ reason: "reset command", reconnectUsb: true });
        return {};
      case "pin_state":
        return { pins: this.pinState() };
      case "shutdown":
        setImmediate(() => this.shutdown(0));
        return {};
      default:
        throw new Error(`unknown command ${JSON.stringify(request.cmd)}`);
    }
  }

  pinState() {
    const pins = {};
    for (const [pin, [mode, pull, value]] of Object.entries(this.pins)) {
      pins[pin] = { mode: PIN_MODE_NAMES[mode] ?? String(mode), pull: PIN_PULL_NAMES[pull] ?? null, value };
    }
    return pins;
  }

  shutdown(code) {
    this.stopInterpreter();
    this.serial?.destroy();
    process.exit(code);
  }
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    diag(`usage: micropython_board.mjs --board-id ID --state-dir DIR [--options-json JSON]: ${error.message}`);
    process.exit(2);
  }
  const board = new MicroPythonBoard(args);
  board.attachSerial(new net.Socket({ fd: SERIAL_FD, readable: true, writable: true }));
  const control = readline.createInterface({ input: process.stdin });
  control.on("line", (line) => {
    if (!line.trim()) return;
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      diag(`control: not JSON: ${line.slice(0, 200)}`);
      return;
    }
    try {
      send({ id: request.id, ok: true, ...board.handle(request) });
    } catch (error) {
      send({ id: request.id, ok: false, error: error.message });
    }
  });
  // No orphan survives the supervisor: stdin closing means it is gone (or wants us gone).
  control.on("close", () => board.shutdown(0));
  board.discoverInterruptWords().then(() => {
    if (!board.worker) board.startInterpreter(); // unless a `reset` already started one
  });
}

main();
