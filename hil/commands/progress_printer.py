"""Progress of long provisioning steps on one terminal line (a plain line per change when not a terminal)."""
from __future__ import annotations

import time
from typing import TextIO

from hil.deploy.tool_output import Progress


class ProgressPrinter:
    def __init__(self, stream: TextIO):
        self.stream = stream
        self.is_terminal = stream.isatty()
        self.started = time.monotonic()
        self._last = ""
        self._drawn = False

    def __enter__(self) -> "ProgressPrinter":
        return self

    def __exit__(self, *exc) -> None:
        if self._drawn and self.is_terminal:
            self.stream.write("\n")
            self.stream.flush()

    def flash_progress(self, progress: Progress) -> None:
        elapsed_s = time.monotonic() - self.started
        percent = f" {progress.percent}%" if progress.percent is not None else ""
        self._show(f"{progress.phase}{percent}", f" ({elapsed_s:.0f} s)")

    def text(self, message: str) -> None:
        self._show(message, "")

    def _show(self, message: str, suffix: str) -> None:
        if message == self._last and not self.is_terminal:
            return   # only changes go to a log
        self._last = message
        if self.is_terminal:
            self.stream.write(f"\r\x1b[K{message}{suffix}")
        else:
            self.stream.write(f"{message}{suffix}\n")
        self._drawn = True
        self.stream.flush()
