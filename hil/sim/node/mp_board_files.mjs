// The simulated Pico's flash filesystem: a host folder, reached synchronously from the interpreter's worker.
//
// The Python side (BoardFS in mp_board_setup.py) calls `call(op, args)` through the `_board` JS module and
// gets a JSON reply: {"r": result} or {"e": errno}, where errno is MicroPython's number (a Pico's littlefs
// reports these, and mpremote maps errors by number), not the host's or Emscripten's.
import fs from "node:fs";
import path from "node:path";

// MicroPython errno values (py/mperrno.h).
const MP_ERRNO = Object.freeze({
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  ENOSPC: 28, ENOTEMPTY: 39,
});
const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;
// A Pico's MicroPython filesystem: littlefs v2, 4096-byte blocks, 1408 KiB (ports/rp2, RP2040 boards).
const FS_BLOCK_BYTES = 4096;
const FS_SIZE_BYTES = 1408 * 1024;
const FS_NAME_MAX = 255;
// littlefs keeps two metadata blocks for the root directory.
const FS_ROOT_METADATA_BLOCKS = 2;
const MS_PER_S = 1000;

class BoardFsError extends Error {
  constructor(errno) {
    super(`errno ${errno}`);
    this.errno = errno;
  }
}

export class BoardFiles {
  constructor(rootDir) {
    this.rootDir = path.resolve(rootDir);
    fs.mkdirSync(this.rootDir, { recursive: true });
  }

  // Runs one operation; never throws (errors become {"e": errno}).
  call(op, args) {
    const handler = OPERATIONS[op];
    if (!handler) return JSON.stringify({ e: MP_ERRNO.EINVAL });
    try {
      const result = handler.call(this, ...args);
      return JSON.stringify({ r: result ?? null });
    } catch (error) {
      if (error instanceof BoardFsError) return JSON.stringify({ e: error.errno });
      return JSON.stringify({ e: MP_ERRNO[error.code] ?? MP_ERRNO.EIO });
    }
  }

  // Host path of a board path ("/lib/x.py"); never outside the board's folder.
  hostPath(boardPath) {
    const relative = path.posix.normalize("/" + boardPath).slice(1);
    const resolved = path.resolve(this.rootDir, relative);
    if (resolved !== this.rootDir && !resolved.startsWith(this.rootDir + path.sep)) {
      throw new BoardFsError(MP_ERRNO.EACCES);
    }
    return resolved;
  }

  usedBlocks(dir = this.rootDir) {
    let blocks = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) blocks += FS_ROOT_METADATA_BLOCKS + this.usedBlocks(full);
      else blocks += Math.ceil(fs.statSync(full).size / FS_BLOCK_BYTES);
    }
    return blocks;
  }
}

function removeEntry(boardPath) {
  // littlefs removes a file or an empty directory through the same call (os.remove and os.rmdir alike).
  const host = this.hostPath(boardPath);
  if (host === this.rootDir) throw new BoardFsError(MP_ERRNO.EPERM);
  if (fs.statSync(host).isDirectory()) fs.rmdirSync(host);
  else fs.unlinkSync(host);
}

function requireWritableFile(host) {
  let stat = null;
  try {
    stat = fs.statSync(host);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  if (stat?.isDirectory()) throw new BoardFsError(MP_ERRNO.EISDIR);
}

const OPERATIONS = {
  stat(boardPath) {
    const stat = fs.statSync(this.hostPath(boardPath));
    const mode = stat.isDirectory() ? S_IFDIR : S_IFREG;
    return [mode, stat.isDirectory() ? 0 : stat.size, Math.floor(stat.mtimeMs / MS_PER_S)];
  },
  listdir(boardPath) {
    const host = this.hostPath(boardPath);
    return fs.readdirSync(host, { withFileTypes: true }).map((entry) => {
      const isDir = entry.isDirectory();
      return [entry.name, isDir, isDir ? 0 : fs.statSync(path.join(host, entry.name)).size];
    });
  },
  statvfs() {
    const totalBlocks = FS_SIZE_BYTES / FS_BLOCK_BYTES;
    const freeBlocks = Math.max(0, totalBlocks - FS_ROOT_METADATA_BLOCKS - this.usedBlocks());
    return [FS_BLOCK_BYTES, FS_BLOCK_BYTES, totalBlocks, freeBlocks, freeBlocks, 0, 0, 0, 0, FS_NAME_MAX];
  },
  mkdir(boardPath) {
    fs.mkdirSync(this.hostPath(boardPath));
  },
  rmdir: removeEntry,
  remove: removeEntry,
  rename(fromPath, toPath) {
    const from = this.hostPath(fromPath);
    fs.statSync(from); // ENOENT before anything else, as littlefs reports it
    fs.renameSync(from, this.hostPath(toPath));
  },
  read(boardPath) {
    const host = this.hostPath(boardPath);
    if (fs.statSync(host).isDirectory()) throw new BoardFsError(MP_ERRNO.EISDIR);
    return fs.readFileSync(host).toString("hex");
  },
  truncate(boardPath) {
    const host = this.hostPath(boardPath);
    requireWritableFile(host);
    fs.writeFileSync(host, Buffer.alloc(0));
  },
  touch(boardPath) {
    const host = this.hostPath(boardPath);
    requireWritableFile(host);
    fs.appendFileSync(host, Buffer.alloc(0));
  },
  append(boardPath, dataHex) {
    fs.appendFileSync(this.hostPath(boardPath), Buffer.from(dataHex, "hex"));
  },
};
