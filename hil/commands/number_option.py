"""Argument types for numbers on the command line: refused by argparse (exit 2, one line naming the option)."""
from __future__ import annotations

import argparse

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
