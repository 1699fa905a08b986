"""Regexes written by users (scenario text), matched with a time bound.

The `regex` package can stop a match after a timeout; `re` cannot, so a pattern such as `(a|aa)+$` against a long
answer would hold the run past every deadline. VERSION0 keeps `re`'s syntax and semantics.
"""
from __future__ import annotations

import regex

from hil.errors import PatternTooSlow

USER_FLAGS = regex.MULTILINE | regex.VERSION0
# The regex package checks its timeout every so often, not at every step: never ask it for less than this.
MIN_MATCH_TIMEOUT_S = 0.05

Pattern = regex.Pattern
Match = regex.Match
error = regex.error


def compile_pattern(text: str) -> regex.Pattern:
    """Compile a user's pattern (MULTILINE); raises `error` (regex.error) when it does not compile."""
    return regex.compile(text, USER_FLAGS)


def search_within(pattern: regex.Pattern, text: str, timeout_s: float) -> regex.Match | None:
    """`pattern.search(text)`, or PatternTooSlow once matching has taken `timeout_s`."""
    try:
        return pattern.search(text, timeout=max(timeout_s, MIN_MATCH_TIMEOUT_S))
    except TimeoutError:
        raise PatternTooSlow(pattern.pattern, len(text), timeout_s) from None
