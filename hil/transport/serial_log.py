"""Every byte a board sends or receives, with a timestamp, in a per-test log file."""
from __future__ import annotations

import threading
import time
from pathlib import Path

RX = "RX"
TX = "TX"
NOTE = "--"


def _printable(data: bytes) -> str:
    # One line per chunk: escape control bytes so the log stays a readable text file.
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


class SerialLog:
    """Appends `[seconds since start] RX|TX|-- escaped-bytes` lines to a file; the file can be switched per test."""

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
            self.path = Path(path) if path is not None else None
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="ascii", buffering=1)

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
