"""The flashing tools' versions are checked, not just found: too old or unreadable is refused, naming both
versions."""
from __future__ import annotations

import pytest

from hil.deploy.tool_versions import check_version, version_problem, version_tuple
from hil.errors import ToolTooOld

# First lines of `picotool version` / `probe-rs --version` as the tools print them (formats from their sources:
# picotool's main.cpp version command, probe-rs's clap `version` with the git commit).
PICOTOOL_1_1_2 = "picotool v1.1.2 (Linux, GNU-12.2.0, Release)"
PICOTOOL_2_0_0 = "picotool v2.0.0 (Linux, GNU-12.2.0, Release)"
PICOTOOL_2_1_1 = "picotool v2.1.1 (Linux, GNU-13.2.0, Release)"
PROBE_RS_0_22 = "probe-rs 0.22.0 (git commit: crates.io)"
PROBE_RS_0_30 = "probe-rs 0.30.0 (git commit: crates.io)"


def test_picotool_before_2_is_refused_naming_found_and_needed() -> None:
    with pytest.raises(ToolTooOld) as raised:
        check_version("picotool", PICOTOOL_1_1_2)
    assert (raised.value.found, raised.value.needed) == ("1.1.2", "2.0.0")
    assert "1.1.2" in str(raised.value) and "2.0.0" in str(raised.value) and "--ser" in str(raised.value)


@pytest.mark.parametrize("line", [PICOTOOL_2_0_0, PICOTOOL_2_1_1])
def test_picotool_2_is_accepted(line: str) -> None:
    check_version("picotool", line)
    assert version_problem("picotool", line) == ""


def test_old_probe_rs_is_refused_and_current_accepted() -> None:
    assert "0.22.0" in version_problem("probe-rs", PROBE_RS_0_22)
    assert "0.24.0" in version_problem("probe-rs", PROBE_RS_0_22)
    assert version_problem("probe-rs", PROBE_RS_0_30) == ""


def test_unreadable_version_is_refused_not_guessed() -> None:
    with pytest.raises(ToolTooOld, match="unreadable"):
        check_version("picotool", "picotool version 1.1.2")


def test_no_answer_and_tools_without_minimum_are_left_alone() -> None:
    check_version("picotool", None)
    assert version_problem("mpremote", "mpremote 1.24.1") == ""


def test_version_tuple() -> None:
    assert version_tuple("2.1.1-rc1") == (2, 1, 1)
    assert version_tuple("x") is None
