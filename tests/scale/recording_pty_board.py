"""A board that is only a pseudo-terminal whose device side writes down every line the host sends, with the time
it arrived: the board's own record of who used it, and when.

Several processes can open a PTY at once (nothing in the OS stops two workers from sharing a port), so this record
shows any breach of the board pool's one-holder rule.
"""
from __future__ import annotations

import errno
import os
import select
import threading
import time
import tty
from pathlib import Path

READ_POLL_S = 0.02
READ_CHUNK_BYTES = 4096
JOIN_TIMEOUT_S = 2.0


class RecordingPtyBoard:
    def __init__(self, link_path: Path):
        self.link_path = Path(link_path)
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)
        self.link_path.symlink_to(os.ttyname(slave_fd))
        self._master_fd = master_fd
        self._slave_fd = slave_fd    # kept open: with no slave open, reads of the master fail with EIO
        self._lock = threading.Lock()
        self._partial = b""
        self._lines: list[tuple[float, str]] = []   # (host monotonic time, line)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._record, name=f"pty-board-{self.link_path.name}", daemon=True)
        self._thread.start()

    @property
    def port(self) -> str:
        return str(self.link_path)

    def lines(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._lines)

    def _record(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master_fd], [], [], READ_POLL_S)
            if not ready:
                continue
            try:
                data = os.read(self._master_fd, READ_CHUNK_BYTES)
            except OSError as error:
                if error.errno == errno.EIO:
                    continue
                raise
            arrived_at = time.monotonic()
            with self._lock:
                *complete, self._partial = (self._partial + data).split(b"\n")
                self._lines.extend((arrived_at, line.decode("utf-8", "replace")) for line in complete)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT_S)
        os.close(self._master_fd)
        os.close(self._slave_fd)
        self.link_path.unlink(missing_ok=True)
