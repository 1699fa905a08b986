"""Every byte a board sends or receives, with a timestamp, in a per-test log file."""
from __future__ import annotations

import threading
import time
from pathlib import Path

RX = "RX"
TX = "TX"
NOTE = "--"
# A log file belongs to the process that created it: it appends only to files it made itself (a board switched back
# to a test's log). A file left by another run, or being written by a concurrent one, is never appended to: the
# log goes to a free name beside it (board.log -> board-2.log).
_MAX_NAME_TRIES = 1000
_created_here: set[Path] = set()
_created_lock = threading.Lock()


def _open_own_log(path: Path):
    """(file, path) of a log file this process may write: its own, or a new one at `path` or a free name beside it."""
    with _created_lock:
        if path in _created_here:
            return open(path, "a", encoding="ascii", buffering=1), path
        for attempt in range(1, _MAX_NAME_TRIES + 1):
            candidate = path if attempt == 1 else path.with_name(f"{path.stem}-{attempt}{path.suffix}")
            try:
                file = open(candidate, "x", encoding="ascii", buffering=1)
            except FileExistsError:
                continue
            _created_here.add(candidate)
            return file, candidate
    raise FileExistsError(f"{path}: {_MAX_NAME_TRIES} logs of this name already exist")


def _printable(data: bytes) -> str:
    # One line per chunk: escape control bytes so the log stays a readable text file.
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


class SerialLog:
    """Writes `[seconds since start] RX|TX|-- escaped-bytes` lines to a file; the file can be switched per test.

    `path` is where the log really is: another run's file of the same name is never appended to (see above)."""

    def __init__(self, path: str | Path | None = None):
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._file = None
        self.path: Path | None = None
        if path is not None:
            self.switch(path)

    def switch(self, path: str | Path | None) -> None:
        """Start writing to `path` (closing the previous file); None stops logging to a file."""
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
            self.path = Path(path).absolute() if path is not None else None
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file, self.path = _open_own_log(self.path)

    def record(self, direction: str, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            if self._file:
                elapsed_s = time.monotonic() - self._start
                self._file.write(f"[{elapsed_s:12.6f}] {direction} {_printable(data)}\n")

    def note(self, text: str) -> None:
        self.record(NOTE, text.encode("utf-8", "replace"))

    def close(self) -> None:
        self.switch(None)
