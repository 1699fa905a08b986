"""The far end of a pseudo-terminal, as a separate process: a stand-in for a board that streams or echoes as fast
as the host takes it, with no link model in between.

    python -m benchmarks.pty_peer --port-file FILE stream --size-bytes N
    python -m benchmarks.pty_peer --port-file FILE echo

Creates a PTY, holds its slave side open (raw mode, so nothing is echoed or translated and the port stays usable
between readers), writes the slave's path to FILE, then serves the master side:
- stream: each byte received is a request: answer with N payload bytes (byte i = 0x41 + i % 26, like the Rust
  lesson firmware's `tx N`); `q` ends;
- echo: every line received is sent back; `q\n` ends.
Ends by itself after --idle-s seconds without a request.
"""
from __future__ import annotations

import argparse
import os
import pty
import select
import tty
from pathlib import Path

WRITE_CHUNK_BYTES = 65536
READ_CHUNK_BYTES = 4096
QUIT = b"q"
ALPHABET_SIZE = 26
FIRST_LETTER = 0x41
DEFAULT_IDLE_S = 60.0


def payload(size_bytes: int) -> bytes:
    pattern = bytes(FIRST_LETTER + i % ALPHABET_SIZE for i in range(ALPHABET_SIZE))
    return (pattern * (size_bytes // ALPHABET_SIZE + 1))[:size_bytes]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        select.select([], [fd], [])
        written = os.write(fd, view[:WRITE_CHUNK_BYTES])
        view = view[written:]


def serve_stream(master: int, size_bytes: int, idle_s: float) -> None:
    data = payload(size_bytes)
    while select.select([master], [], [], idle_s)[0]:
        request = os.read(master, READ_CHUNK_BYTES)
        if QUIT in request:
            return
        for _ in request:
            write_all(master, data)


def serve_echo(master: int, idle_s: float) -> None:
    pending = b""
    while select.select([master], [], [], idle_s)[0]:
        pending += os.read(master, READ_CHUNK_BYTES)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line == QUIT:
                return
            write_all(master, line + b"\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--idle-s", type=float, default=DEFAULT_IDLE_S)
    modes = parser.add_subparsers(dest="mode", required=True)
    modes.add_parser("stream").add_argument("--size-bytes", type=int, required=True)
    modes.add_parser("echo")
    args = parser.parse_args(argv)
    master, slave = pty.openpty()
    tty.setraw(slave)
    args.port_file.write_text(os.ttyname(slave))
    try:
        if args.mode == "stream":
            serve_stream(master, args.size_bytes, args.idle_s)
        else:
            serve_echo(master, args.idle_s)
    finally:
        os.close(slave)
        os.close(master)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
