"""Numbers that are not numbers never reach a deadline: Deadline refuses them, and every command-line timeout is
refused by the parser with exit 2 and one line naming the option."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from hil.deadline import MAX_TIMEOUT_S, Deadline
from hil.errors import InvalidTimeout

HIL_COMMAND = Path(sys.executable).with_name("hil")
COMMAND_TIMEOUT_S = 60.0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, -1e-9, MAX_TIMEOUT_S * 2, "5", None, True])
def test_a_deadline_refuses_what_is_not_a_finite_non_negative_number(value):
    with pytest.raises(InvalidTimeout) as caught:
        Deadline(value)
    assert repr(value) in str(caught.value)


def test_a_nested_deadline_refuses_nan_instead_of_never_expiring():
    with pytest.raises(InvalidTimeout):
        Deadline(1.0).sub(math.nan)


def test_a_deadline_of_a_plain_figure_still_expires():
    deadline = Deadline(0)
    assert deadline.expired and deadline.remaining_s == 0


@pytest.mark.parametrize("command", [["deploy", "pico-a", "main.py"], ["flash", "pico-a", "fw.elf"], ["build"]])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e999", "ten"])
def test_a_timeout_option_that_is_not_a_usable_number_exits_2_naming_the_option(tmp_path, command, value):
    run = subprocess.run([str(HIL_COMMAND), *command, "--timeout", value], cwd=tmp_path, capture_output=True,
                         text=True, timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"argument --timeout: {value!r}" in run.stderr


@pytest.mark.parametrize("option,value", [("--frame-period-us", "nan"), ("--packets-per-frame", "-5"),
                                          ("--reenumerate-gap-ms", "inf"), ("--rust", "-1"), ("--micropython", "1e3")])
def test_a_sim_option_that_is_not_a_usable_number_exits_2_naming_the_option(tmp_path, option, value):
    run = subprocess.run([str(HIL_COMMAND), "sim", "serve", "--sim-dir", str(tmp_path / "sim"), option, value],
                         cwd=tmp_path, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"argument {option}: {value!r}" in run.stderr
