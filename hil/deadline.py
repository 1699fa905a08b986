"""A host-side deadline, passed down instead of loose numbers so nested waits share one budget."""
from __future__ import annotations

import math
import time
from typing import Callable, TypeVar

from hil.errors import DeadlineExpired, InvalidTimeout

# A day: no step, flash or deploy on a Pico comes near it; a bigger figure is a typo, not a budget.
MAX_TIMEOUT_S = 86_400.0


def checked_timeout_s(timeout_s: object, what: str = "timeout_s") -> float:
    """`timeout_s` as a float if it is a finite number in [0, MAX_TIMEOUT_S]; InvalidTimeout naming `what` if not.

    NaN fails every comparison, so a plain `< 0` test lets it through and a deadline built on it never expires.
    """
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
        raise InvalidTimeout(what, timeout_s, "is not a number")
    value = float(timeout_s)
    if not math.isfinite(value):
        raise InvalidTimeout(what, timeout_s, "is not a finite number")
    if value < 0:
        raise InvalidTimeout(what, timeout_s, "is negative")
    if value > MAX_TIMEOUT_S:
        raise InvalidTimeout(what, timeout_s, f"is more than {MAX_TIMEOUT_S:g} s")
    return value

T = TypeVar("T")


class Deadline:
    """Expires `timeout_s` seconds after creation, measured on the host's monotonic clock."""

    def __init__(self, timeout_s: float):
        self.timeout_s = checked_timeout_s(timeout_s)
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
        return Deadline(min(checked_timeout_s(timeout_s), self.remaining_s))

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
            self.sleep(interval_s)

    def sleep(self, interval_s: float) -> None:
        """Sleep `interval_s`, or only what is left of the deadline if that is less."""
        time.sleep(min(interval_s, self.remaining_s))

    def __repr__(self) -> str:
        return f"Deadline(timeout_s={self.timeout_s:g}, remaining_s={self.remaining_s:.3f})"
