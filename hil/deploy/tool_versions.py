"""Which versions of the flashing tools this framework can drive, and the check that refuses older ones.

picotool before 2.0 has no `--ser` selection and prints different messages; probe-rs releases before the one
below print `list` and `--version` in other formats than tool_output.py parses. Both are refused with the version
found and the one needed, rather than run with output we would misread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from hil.deploy.tool_output import parse_picotool_version, parse_probe_rs_version
from hil.errors import ToolTooOld


@dataclass(frozen=True)
class MinimumVersion:
    tool: str
    needed: tuple[int, int, int]
    why: str
    parse: Callable[[str], str | None]

    @property
    def needed_text(self) -> str:
        return ".".join(map(str, self.needed))


MINIMUM_VERSIONS = {
    "picotool": MinimumVersion("picotool", (2, 0, 0), "`--ser` device selection and the 2.x messages",
                               parse_picotool_version),
    "probe-rs": MinimumVersion("probe-rs", (0, 24, 0), "the `probe-rs list` and `--version` formats the parser "
                               "follows", parse_probe_rs_version),
}

_NUMBERS = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def version_tuple(version: str) -> tuple[int, int, int] | None:
    """(2, 1, 1) from '2.1.1' or '2.1.1-rc1'; None when it does not start with three numbers."""
    match = _NUMBERS.match(version.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_version(tool: str, version_line: str | None) -> None:
    """Raise ToolTooOld when the tool answered with a version older than the minimum, or with no version we
    can read. A tool that gave no answer at all (None) is left to fail on its own, with its own message."""
    minimum = MINIMUM_VERSIONS.get(tool)
    if version_line is None or minimum is None:
        return
    parsed = minimum.parse(version_line)
    numbers = version_tuple(parsed) if parsed else None
    if numbers is None:
        raise ToolTooOld(tool, f"unreadable ({version_line.strip()!r})", minimum.needed_text, minimum.why)
    if numbers < minimum.needed:
        raise ToolTooOld(tool, parsed, minimum.needed_text, minimum.why)


def version_problem(tool: str, version_line: str | None) -> str:
    """'' when the version is acceptable (or unknown); otherwise the one-line problem, for `hil doctor`."""
    try:
        check_version(tool, version_line)
    except ToolTooOld as error:
        return str(error)
    return ""
