"""Reading the one-line answers of the lesson scripts (the Rust firmware's format: `OK word key=value ...`)."""
from __future__ import annotations

import re

ANSWER = re.compile(r"^(?P<status>OK|ERR|SKIP) (?P<word>[a-z0-9]+)(?P<rest>.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def parse_answer(line: str) -> tuple[str, str, dict[str, str]]:
    """(status, word, fields) of an answer line; AssertionError (with the line) if it is not one."""
    match = ANSWER.match(line.rstrip("\r"))
    assert match, f"not an answer line: {line!r}"
    return match["status"], match["word"], dict(FIELD.findall(match["rest"]))


def only_answer(lines: list[str], word: str) -> dict[str, str]:
    """The fields of the single `OK <word>` line among `lines`."""
    found = [parse_answer(line) for line in lines if line.startswith(("OK ", "ERR ", "SKIP "))]
    matching = [fields for status, w, fields in found if w == word and status == "OK"]
    assert len(matching) == 1, f"expected one 'OK {word}' line in {lines!r}"
    return matching[0]
