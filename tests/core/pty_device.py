"""A pretend device behind a real pseudo-terminal, for testing the transport without hardware.

The test plays the device on the PTY's master side; the transport opens the slave like /dev/ttyACM0. A stable
symlink stands for the port name, and `reenumerate()` makes the port vanish and come back the way a Pico's USB
port does after a reset.
"""
from __future__ import annotations

import os
import threading
import time
import tty
from pathlib import Path


class PtyDevice:
    def __init__(self, link_path: Path):
        self.link_path = Path(link_path)
        self.master_fd: int | None = None
        self._open()

    def _open(self) -> None:
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)
        slave_name = os.ttyname(slave_fd)
        os.close(slave_fd)
        self.master_fd = master_fd
        tmp = self.link_path.with_suffix(".tmp")
        if tmp.exists() or tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(slave_name)
        tmp.replace(self.link_path)

    def locate(self, timeout_s: float) -> str:
        """What a bench's locator does: the port's current name, waiting for it to exist."""
        end = time.monotonic() + timeout_s
        while True:
            if self.link_path.exists():
                return str(self.link_path)
            if time.monotonic() >= end:
                from hil.errors import BoardNotFound
                raise BoardNotFound("pty-device", f"{self.link_path} absent")
            time.sleep(0.01)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.master_fd, view)
            view = view[written:]

    def receive(self, size_bytes: int, timeout_s: float = 2.0) -> bytes:
        import select
        got = bytearray()
        end = time.monotonic() + timeout_s
        while len(got) < size_bytes and time.monotonic() < end:
            ready, _, _ = select.select([self.master_fd], [], [], 0.05)
            if ready:
                got += os.read(self.master_fd, size_bytes - len(got))
        return bytes(got)

    def vanish(self) -> None:
        if self.link_path.is_symlink():
            self.link_path.unlink()
        if self.master_fd is not None:
            os.close(self.master_fd)
            self.master_fd = None

    def reenumerate(self, absent_s: float) -> None:
        """Port disappears, then (in the background, after absent_s) a new one appears under the same name."""
        self.vanish()
        timer = threading.Timer(absent_s, self._open)
        timer.start()
        self._timer = timer

    def close(self) -> None:
        timer = getattr(self, "_timer", None)
        if timer:
            timer.cancel()
            timer.join()
        self.vanish()
