// One serial link of the board process: a Unix stream socket inherited from the supervisor on a file
// descriptor, carrying raw bytes both ways. Output is gathered during an emulation slice and written once per
// slice; when nothing reads the other end, output past a bound is dropped so the emulator never waits on it.

import fs from 'node:fs';
import net from 'node:net';

export const OUTPUT_BACKLOG_LIMIT_BYTES = 4 * 1024 * 1024;

export class SerialLink {
  /** `fd`: inherited descriptor; `onInput(Uint8Array)`: bytes from the host side. */
  constructor(name, fd, onInput) {
    this.name = name;
    this.pending = [];
    this.droppedBytes = 0;
    this.socket = null;
    if (!SerialLink.fdIsOpen(fd)) return;
    this.socket = new net.Socket({ fd, readable: true, writable: true });
    this.socket.on('data', (chunk) => onInput(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    this.socket.on('error', () => this.detach());
    this.socket.on('close', () => this.detach());
  }

  /** Only a socket counts: without one the number may belong to Node itself (an eventfd, a pipe). */
  static fdIsOpen(fd) {
    try {
      return fs.fstatSync(fd).isSocket();
    } catch {
      return false;
    }
  }

  get connected() {
    return this.socket !== null;
  }

  detach() {
    this.socket = null;
  }

  writeByte(value) {
    this.pending.push(value);
  }

  writeBytes(bytes) {
    for (const b of bytes) this.pending.push(b);
  }

  /** Hand what the firmware sent during the last slice to the socket. */
  flush() {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending);
    this.pending = [];
    if (!this.socket) return;
    if (this.socket.writableLength > OUTPUT_BACKLOG_LIMIT_BYTES) {
      this.droppedBytes += data.length;
      return;
    }
    this.socket.write(data);
  }

  close() {
    if (this.socket) this.socket.destroy();
    this.socket = null;
  }
}
