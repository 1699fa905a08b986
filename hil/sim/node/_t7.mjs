import fs from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
const bytes = fs.readFileSync("node_modules/@micropython/micropython-webassembly-pyscript/micropython.wasm");
function leb(buf, o) { let r = 0, s = 0, b; do { b = buf[o++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return [r >>> 0, o]; }
function encLeb(n) { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; }
function name(s) { const b = Buffer.from(s); return [...encLeb(b.length), ...b]; }
let off = 8; const parts = [bytes.subarray(0, 8)]; let mem;
const sections = [];
while (off < bytes.length) { const id = bytes[off]; const [size, o2] = leb(bytes, off + 1); sections.push({id, body: bytes.subarray(o2, o2 + size)}); off = o2 + size; }
const memSec = sections.find(s => s.id === 5); { let [n, o] = leb(memSec.body, 0); const flags = memSec.body[o]; let [min, o4] = leb(memSec.body, o + 1); let [max] = leb(memSec.body, o4); mem = {min, max}; }
for (const s of sections) {
  if (s.id === 5) continue;
  let body = s.body;
  if (s.id === 2) { const [n, o] = leb(body, 0); body = Buffer.from([...encLeb(n + 1), ...body.subarray(o), ...name("env"), ...name("memory"), 0x02, 0x03, ...encLeb(mem.min), ...encLeb(mem.max)]); }
  parts.push(Buffer.from([s.id, ...encLeb(body.length)]), body);
}
const patched = Buffer.concat(parts);
const module = new WebAssembly.Module(patched);
const memory = new WebAssembly.Memory({ initial: mem.min, maximum: mem.max, shared: true });
const inst = WebAssembly.instantiate;
WebAssembly.instantiate = async (src, imports) => { imports.env.memory = memory; const i = await inst(module, imports); return {instance: i, module}; };
const TD = TextDecoder.prototype.decode;
let out = [];
const mp = await loadMicroPython({stdout: b=>out.push(...b), linebuffer:false});
console.log(memory.buffer instanceof SharedArrayBuffer);
mp.runPython("print('hello', 'wörld'); import micropython");
const snap = () => new Int32Array(memory.buffer.slice(0, 4*1024*1024));
const s0 = snap(); mp.runPython("micropython.kbd_intr(3)"); const s1 = snap(); mp.runPython("micropython.kbd_intr(5)"); const s2 = snap(); mp.runPython("micropython.kbd_intr(-1)"); const s3 = snap();
const cand = []; for (let i = 0; i < s0.length; i++) if (s1[i] === 3 && s2[i] === 5 && s3[i] === -1) cand.push(i*4);
console.log("interrupt char candidates", cand);
const k0 = snap(); mp._module._mp_sched_keyboard_interrupt(); const k1 = snap();
const diffs = []; for (let i = 0; i < k0.length; i++) if (k0[i] !== k1[i]) diffs.push([i*4, k0[i], k1[i]]);
console.log("kbd diffs", diffs);
try { mp.runPython("x = 0\nfor i in range(10): x += 1"); } catch (e) { console.log("raised:", e.message); }
// now inject from 'outside': write the diffs then run a loop
for (const [a,, v] of diffs) Atomics.store(new Int32Array(memory.buffer), a/4, v);
try { mp.runPython("x = 0\nwhile True: x += 1"); } catch (e) { console.log("raised2:", e.message); }
console.log(Buffer.from(out).toString());
