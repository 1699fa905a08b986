// Runs Python code in MicroPython's WebAssembly port (the engine of the simulated MicroPython board) and
// prints what it wrote to stdout, byte for byte.
//   node run_micropython.mjs --lib DIR [--stdin FILE] CODE
// Every .py file of DIR is copied to the interpreter's root (where a Pico keeps deployed scripts).
// An uncaught Python exception is written to stderr and the exit code is 1.
import fs from 'node:fs';
import path from 'node:path';

const ENGINE = process.env.MICROPYTHON_WASM_MJS ??
  '/work/main/hil/sim/node/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs';

function parseArgs(argv) {
  const options = { lib: null, stdin: null, code: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--lib') options.lib = argv[++i];
    else if (argv[i] === '--stdin') options.stdin = argv[++i];
    else options.code = argv[i];
  }
  if (options.code === null) throw new Error('usage: run_micropython.mjs --lib DIR [--stdin FILE] CODE');
  return options;
}

const options = parseArgs(process.argv.slice(2));
const { loadMicroPython } = await import(ENGINE);
const input = options.stdin ? fs.readFileSync(options.stdin) : Buffer.alloc(0);
let inputOffset = 0;
const output = [];
const errors = [];
const mp = await loadMicroPython({
  linebuffer: false,
  stdout: bytes => output.push(Buffer.from(bytes)),
  stderr: bytes => errors.push(Buffer.from(bytes)),
  // One byte per call; null is end of input.
  stdin: () => (inputOffset < input.length ? input[inputOffset++] : null),
});
if (options.lib) {
  for (const name of fs.readdirSync(options.lib)) {
    if (name.endsWith('.py')) mp.FS.writeFile('/' + name, fs.readFileSync(path.join(options.lib, name)));
  }
}
let exitCode = 0;
try {
  mp.runPython(options.code);
} catch (error) {
  errors.push(Buffer.from(String(error.message ?? error) + '\n'));
  exitCode = 1;
}
process.stdout.write(Buffer.concat(output));
process.stderr.write(Buffer.concat(errors));
process.exitCode = exitCode;
