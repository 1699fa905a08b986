"""A test double for a MicroPython board behind a real pseudo-terminal: the raw REPL and raw-paste protocol byte
for byte as MicroPython's pyexec.c speaks them, with a flow-control window of 128 bytes like a Pico.

The Python it receives is run by the test's own interpreter, in a namespace that stands in for the board's
modules (`sys.implementation` says micropython, files live in a host folder, `deflate` decodes with zlib). It
exists to test the deployer's protocol use without Node or hardware; the simulated bench covers the real
MicroPython. It counts what a test wants to assert: commands run, files opened for writing, soft resets.
"""
from __future__ import annotations

import builtins
import errno
import io
import os
import posixpath
import select
import threading
import time
import traceback
import tty
import types
import zlib
from pathlib import Path

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_BANNER = b"\r\nMicroPython v1.27.0 on 2026-01-01; Fake Pico with RP2040\r\n>>> "
PASTE_WINDOW_BYTES = 128


class _FakeDeflateIO:
    def __init__(self, stream, _format):
        self._stream = stream

    def read(self):
        data = self._stream.read()
        return zlib.decompress(data, zlib.MAX_WBITS)


class FakeMicroPythonBoard:
    def __init__(self, root: Path, *, has_deflate: bool = True, reply_delay_s: float = 0.0):
        self.fs_root = root / "fs"
        self.fs_root.mkdir(parents=True, exist_ok=True)
        self.has_deflate = has_deflate
        self.reply_delay_s = reply_delay_s     # models a link's turnaround: paid once per reply
        self.commands_run = 0
        self.files_opened_for_writing: list[str] = []
        self.soft_resets = 0
        self.bytes_received = 0
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)
        self.port = os.ttyname(slave_fd)
        self._slave_fd = slave_fd   # kept open so the PTY survives between host connections
        self._master_fd = master_fd
        self._stop = threading.Event()
        self._namespace = self._fresh_namespace()
        self._thread = threading.Thread(target=self._serve, name="fake-micropython", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master_fd, self._slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass   # already unplugged

    def unplug(self) -> None:
        """The USB cable is pulled: the board stops and its end of the link goes away."""
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self._master_fd)

    def board_file(self, board_path: str) -> Path:
        return self.fs_root / board_path.lstrip("/")

    # -- the namespace the received code runs in ------------------------------------------------------------

    def _host_path(self, board_path: str) -> str:
        return str(self.fs_root / posixpath.normpath(board_path).lstrip("/"))

    def _fresh_namespace(self) -> dict:
        board = self

        def board_open(path, mode="r", *args, **kwargs):
            if "w" in mode or "a" in mode:
                board.files_opened_for_writing.append(path)
            return builtins.open(board._host_path(path), mode, *args, **kwargs)

        fake_os = types.SimpleNamespace(mkdir=lambda p: os.mkdir(board._host_path(p)),
                                        listdir=lambda p="/": os.listdir(board._host_path(p)),
                                        remove=lambda p: os.remove(board._host_path(p)),
                                        stat=lambda p: tuple(os.stat(board._host_path(p))))
        fake_sys = types.SimpleNamespace(
            implementation=types.SimpleNamespace(name="micropython", version=(1, 27, 0, ""),
                                                 _machine="Fake Pico with RP2040"),
            platform="rp2")
        modules = {"os": fake_os, "sys": fake_sys, "gc": types.SimpleNamespace(collect=lambda: None)}
        if self.has_deflate:
            modules["deflate"] = types.SimpleNamespace(DeflateIO=_FakeDeflateIO, ZLIB=1)

        def board_import(name, *args, **kwargs):
            if name in modules:
                return modules[name]
            if name == "deflate":
                raise ImportError("no module named 'deflate'")
            return builtins.__import__(name, *args, **kwargs)

        fake_builtins = dict(vars(builtins), open=board_open, __import__=board_import)
        return {"__builtins__": fake_builtins, "__name__": "__main__"}

    def _run(self, code: bytes) -> tuple[bytes, bytes]:
        self.commands_run += 1
        out, err = io.StringIO(), io.StringIO()
        self._namespace["__builtins__"]["print"] = lambda *a, **k: builtins.print(*a, **{**k, "file": out})
        try:
            exec(compile(code.decode(), "<stdin>", "exec"), self._namespace)  # noqa: S102 - a test double's "board"
        except BaseException as error:  # noqa: BLE001 - a board reports every exception as a traceback
            err.write("Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n")
            if isinstance(error, OSError) and error.errno in errno.errorcode:
                err.write(f"OSError: [Errno {error.errno}] {errno.errorcode[error.errno]}\n")  # as MicroPython words it
            else:
                err.write("".join(traceback.format_exception_only(type(error), error)))
        return out.getvalue().replace("\n", "\r\n").encode(), err.getvalue().replace("\n", "\r\n").encode()

    # -- the protocol -----------------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self.reply_delay_s:
            time.sleep(self.reply_delay_s)
        view = memoryview(data)
        while view:
            view = view[os.write(self._master_fd, view):]

    def _read_byte(self) -> int | None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master_fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self._master_fd, 1)
                except OSError:
                    time.sleep(0.01)   # no host has the port open right now
                    continue
                if data:
                    self.bytes_received += 1
                    return data[0]
        return None

    def _serve(self) -> None:
        raw = False
        line = bytearray()
        while (byte := self._read_byte()) is not None:
            if byte == 0x03:
                line.clear()
            elif byte == 0x01:
                if raw and bytes(line) == b"\x05A":
                    line.clear()
                    self._raw_paste()
                    continue
                line.clear()
                self._send(RAW_BANNER if raw else b"\r\n" + RAW_BANNER)
                raw = True
            elif byte == 0x02:
                raw = False
                line.clear()
                self._send(FRIENDLY_BANNER)
            elif byte == 0x04 and raw:
                if not line:
                    self.soft_resets += 1
                    self._namespace = self._fresh_namespace()
                    self._send(b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER)
                    continue
                out, err = self._run(bytes(line))
                line.clear()
                self._send(b"OK" + out + b"\x04" + err + b"\x04>")
            elif raw:
                line.append(byte)

    def _raw_paste(self) -> None:
        self._send(b"R\x01" + PASTE_WINDOW_BYTES.to_bytes(2, "little") + b"\x01")
        code = bytearray()
        window_remain = PASTE_WINDOW_BYTES
        while (byte := self._read_byte()) is not None:
            if byte == 0x04:
                self._send(b"\x04")
                out, err = self._run(bytes(code))
                self._send(out + b"\x04" + err + b"\x04>")
                return
            code.append(byte)
            window_remain -= 1
            if window_remain == 0:
                self._send(b"\x01")
                window_remain = PASTE_WINDOW_BYTES


class FakeRustFirmware:
    """A port that answers like the Rust lesson firmware: every line gets 'ERR <word>: unknown command'."""

    def __init__(self):
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)
        self.port = os.ttyname(slave_fd)
        self._fds = (master_fd, slave_fd)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        master_fd = self._fds[0]
        pending = bytearray()
        while not self._stop.is_set():
            ready, _, _ = select.select([master_fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master_fd, 256)
            except OSError:
                time.sleep(0.01)
                continue
            for byte in data:
                if byte in (0x0D, 0x0A):
                    word = bytes(pending).strip().split(b" ")[0].decode("latin-1", "replace")
                    if word:
                        os.write(master_fd, f"ERR {word}: unknown command\r\n".encode("latin-1", "replace"))
                    pending.clear()
                else:
                    pending.append(byte)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in self._fds:
            os.close(fd)
