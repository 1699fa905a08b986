"""A host-side deadline, passed down instead of loose numbers so nested waits share one budget."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from hil.errors import DeadlineExpired

T = TypeVar("T")


class Deadline:
    """Expires `timeout_s` seconds after creation, measured on the host's monotonic clock."""

    def __init__(self, timeout_s: float):
        if timeout_s < 0:
            raise ValueError(f"timeout_s must be >= 0, got {timeout_s}")
        self.timeout_s = float(timeout_s)
        self._start = time.monotonic()
        self._end = self._start + self.timeout_s

    @property
    def remaining_s(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._start

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def sub(self, timeout_s: float) -> "Deadline":
        """A nested deadline that never outlives this one."""
        return Deadline(min(timeout_s, self.remaining_s))

    def check(self, what: str) -> None:
        """Raise DeadlineExpired naming `what` if the deadline has passed."""
        if self.expired:
            raise DeadlineExpired(what, self.timeout_s)

    def poll(self, attempt: Callable[[], T], interval_s: float) -> T | None:
        """Call `attempt` until it returns something truthy (returned) or the deadline passes (its last answer).
        It is always called at least once, and once more at the end; sleeps never overrun the deadline."""
        while True:
            result = attempt()
            if result or self.expired:
                return result
            time.sleep(min(interval_s, max(self.remaining_s, 0.0)))

    def __repr__(self) -> str:
        return f"Deadline(timeout_s={self.timeout_s:g}, remaining_s={self.remaining_s:.3f})"
