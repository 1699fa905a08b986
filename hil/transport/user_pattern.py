"""Regexes written by users (scenario text), matched with a time bound.

The `regex` package can stop a match after a timeout; `re` cannot, so a pattern such as `(a|aa)+$` against a long
answer would hold the run past every deadline. VERSION0 keeps `re`'s syntax and semantics.
"""
from __future__ import annotations

import math
import re

import regex

from hil.errors import PatternTooSlow

USER_FLAGS = regex.MULTILINE | regex.VERSION0
# The regex package checks its timeout every so often, not at every step: never ask it for less than this.
MIN_MATCH_TIMEOUT_S = 0.05

Pattern = regex.Pattern
Match = regex.Match
error = regex.error


# The regex package unrolls counted repeats when it compiles: `a{1000000000}` or `((a{1000}){1000}){1000}` would take
# minutes and gigabytes before any deadline applies. Counts that multiply (nested) beyond this are refused.
MAX_REPEAT_PRODUCT = 10_000
_COUNTED_REPEAT = re.compile(r"\{(\d*),?(\d*)\}")
try:  # the standard library's own regex parser: a tree of the pattern without compiling it
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre_parse


def _nested_repeat_product(items, depth: int = 0) -> int:
    """The largest product of counted-repeat bounds along one nesting path of a parsed pattern."""
    largest = 1
    for op, argument in items:
        factor, children = 1, []
        if op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT, getattr(_sre_parse, "POSSESSIVE_REPEAT", None)):
            low, high, child = argument
            factor = low if high == _sre_parse.MAXREPEAT else high   # unbounded (*, +) is a loop, not unrolled
            children = [child]
        else:
            stack = [argument]
            while stack:
                value = stack.pop()
                if isinstance(value, _sre_parse.SubPattern):
                    children.append(value)
                elif isinstance(value, (list, tuple)):
                    stack.extend(value)
        inner = max((_nested_repeat_product(child, depth + 1) for child in children), default=1)
        largest = max(largest, max(factor, 1) * inner)
    return largest


def repeat_product(text: str) -> int:
    """How many times counted repeats may unroll `text`: nested products when the standard parser can read it, else
    (syntax of the regex package only) the product of every count, which is never less."""
    try:
        return _nested_repeat_product(_sre_parse.parse(text))
    except (re.error, RecursionError, OverflowError, ValueError):
        counts = [int(high or low) for low, high in _COUNTED_REPEAT.findall(text) if (high or low)]
        return math.prod(max(count, 1) for count in counts) if counts else 1


def compile_pattern(text: str) -> regex.Pattern:
    """Compile a user's pattern (MULTILINE); raises `error` (regex.error) when it does not compile or when its
    counted repeats would unroll into more than MAX_REPEAT_PRODUCT copies."""
    product = repeat_product(text)
    if product > MAX_REPEAT_PRODUCT:
        raise regex.error(f"counted repeats unroll to {product} copies (more than {MAX_REPEAT_PRODUCT}); "
                          f"use + or * instead of a large {{n}}")
    return regex.compile(text, USER_FLAGS)


def search_within(pattern: regex.Pattern, text: str, timeout_s: float) -> regex.Match | None:
    """`pattern.search(text)`, or PatternTooSlow once matching has taken `timeout_s`."""
    try:
        return pattern.search(text, timeout=max(timeout_s, MIN_MATCH_TIMEOUT_S))
    except TimeoutError:
        raise PatternTooSlow(pattern.pattern, len(text), timeout_s) from None
