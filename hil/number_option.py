"""Argument types for numbers on the command line: refused by argparse (exit 2, one line naming the option)."""
from __future__ import annotations

import argparse
import math

from hil.deadline import checked_timeout_s
from hil.errors import InvalidTimeout


def timeout_seconds(text: str) -> float:
    """A `--timeout SECONDS` value: finite, more than zero, at most a day ("nan", "inf", "-1" are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    try:
        value = checked_timeout_s(value, "seconds")
    except InvalidTimeout as error:
        raise argparse.ArgumentTypeError(f"{text!r} {error.problem}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a deadline of 0 s leaves no time to do anything")
    return value


# Far above any sensible setting: a bound that keeps a typo from becoming a day-long frame or a million boards.
MAX_SETTING = 1_000_000


def bounded_number(minimum: float, *, integer: bool = False, maximum: float = MAX_SETTING):
    """An argparse type: a finite number (an integer if asked) in [minimum, maximum]; "nan", "inf" are refused."""
    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if integer else 'a number'}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is outside {minimum:g}..{maximum:g}")
        return value
    parse.__name__ = "whole number" if integer else "number"   # argparse names the type in its messages
    return parse
