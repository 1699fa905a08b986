"""Reset and power as bench-file resources: uhubctl per-port power, a gpioset-driven RUN pin, used in order (probe,
power, RUN pin, picotool), and a board nothing can bring back is reported before a scenario panics it."""
from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from hil.bench.bench_file import load_bench_file
from hil.bench.board_spec import BoardSpec
from hil.bench.recovery import (cannot_recover_reason, power_switch_of, recovery_plan,
                                 reset_line_of)
from hil.errors import ConfigError, HilError, ProvisionError, ScenarioSkip
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_file import load_scenario
from hil.scenario.scenario_runner import ScenarioRunner
from hil.board.board import BoardState
from hil.board.rust_board import RustBoard
from tests.core.pty_device import PtyDevice
from tests.scenario.test_scenario_runner import PtyBench

@pytest.fixture
def device(tmp_path):
    pretend = PtyDevice(tmp_path / "tty")
    yield pretend
    pretend.close()


BENCH = """\
bench: desk
boards:
  - id: powered
    runtime: rust
    serial_number: E66138935F4D4B2C
    flash: picotool
    power: {uhubctl: {hub: "1-1", port: 3, off_s: 0.5}}
    reset: {gpioset: {chip: gpiochip0, line: 17}}
  - id: bare
    runtime: rust
    serial_number: E6614C311B4A6B2B
    flash: picotool
"""


def specs(tmp_path) -> dict[str, BoardSpec]:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH)
    return {spec.board_id: spec for spec in load_bench_file(path).specs}


def never(_timeout_s: float) -> None:
    raise AssertionError("not this one")


def plan_of(spec: BoardSpec):
    """The plan a bench that takes power and RUN pin from the bench file gives this board."""
    return recovery_plan(spec, never, power_switch_of(spec), reset_line_of(spec))


def test_power_and_reset_resources_become_the_real_tools_command_lines(tmp_path):
    plan = plan_of(specs(tmp_path)["powered"])
    assert [means.name for means in plan] == ["power cycle (uhubctl hub 1-1 port 3)",
                                              "RUN pin (gpiochip0 line 17, gpioset)",
                                              "picotool reboot (needs running firmware)"]
    assert [means.works_when_halted for means in plan] == [True, True, False]


def test_a_probe_comes_first(tmp_path):
    spec = BoardSpec("p", "rust", serial_number="X", probe="2e8a:000c:P1", flash_method="probe-rs",
                     extra={"power": {"uhubctl": {"hub": "1-1", "port": 2}}})
    assert [m.name.split(" (")[0] for m in plan_of(spec)] == ["probe reset", "power cycle"]


def test_a_picotool_only_board_cannot_be_recovered_after_a_panic(tmp_path):
    board = specs(tmp_path)["bare"]
    reason = cannot_recover_reason(board, plan_of(board))
    assert "board bare cannot be recovered after a panic" in reason and "picotool reboot needs running" in reason
    assert cannot_recover_reason(specs(tmp_path)["powered"], plan_of(specs(tmp_path)["powered"])) == ""


def test_a_malformed_power_entry_names_file_and_line(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH.replace('port: 3, off_s: 0.5', 'off_s: 0.5'))
    with pytest.raises(ConfigError, match=r"bench.yaml:\d+"):
        load_bench_file(path)


def fake_tool(folder: Path, name: str) -> Path:
    """An executable that appends its argv to <name>.calls."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {folder / (name + '.calls')}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder / f"{name}.calls"


def test_a_halted_board_is_reset_by_power_cycle_and_the_means_is_recorded(tmp_path, device):
    calls = fake_tool(tmp_path / "bin", "uhubctl")
    bench = PtyBench(device)
    spec = BoardSpec("pico-r", "rust", serial_number="PTY1", flash_method="picotool",
                     extra={"power": {"uhubctl": {"hub": "1-1", "port": 3}}})
    bench.tool_env = lambda: {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    class NoFlasher:
        def reset(self, timeout_s):
            raise AssertionError("picotool cannot reset a halted board")

    board = RustBoard(spec, bench, NoFlasher())
    board.set_state(BoardState.HALTED)
    with pytest.raises(HilError):
        board.reset(timeout_s=0.5)     # the pretend board never answers `id`: only the reset itself is checked
    assert calls.read_text().split() == ["-l", "1-1", "-p", "3", "-a", "cycle", "-d", "1"]
    assert board.facts["reset_by"] == "power cycle (uhubctl hub 1-1 port 3)"


def test_a_halted_board_with_nothing_to_reset_it_says_so(tmp_path, device):
    bench = PtyBench(device)
    spec = BoardSpec("pico-r", "rust", serial_number="PTY1", flash_method="picotool")
    board = RustBoard(spec, bench, flasher=type("F", (), {"reset": lambda self, t: None})())
    board.set_state(BoardState.HALTED)
    with pytest.raises(ProvisionError, match="cannot be recovered after a panic"):
        board.reset(timeout_s=1)


def test_the_panic_scenario_is_refused_before_it_panics_an_unrecoverable_board(tmp_path, device):
    path = tmp_path / "s.yaml"
    path.write_text("scenario: s\nclaim: c\nboards:\n  rust: {runtime: rust, provision: false}\nsteps:\n"
                    + textwrap.indent(textwrap.dedent("""\
                        - {on: rust, command: ping, expect: 'OK pong', timeout_s: 1}
                        - {on: rust, command: "panic unwrap", expect_panic: {message: 'None', timeout_s: 2}}
                        """), "  "))
    bench = PtyBench(device)
    spec = BoardSpec("pico-r", "rust", serial_number="PTY1", flash_method="picotool")
    board = RustBoard(spec, bench, flasher=type("F", (), {"reset": lambda self, t: None})())
    runner = ScenarioRunner(load_scenario(path, tmp_path), {"rust": board}, Artifacts(tmp_path), lambda m: None,
                            lambda k, v: None)
    # the pretend board never answers, so had the ping step run it would have failed (StepFailed) first
    with pytest.raises(ScenarioSkip, match=r"board pico-r cannot be recovered after a panic.*step at line 7"):
        runner.run()


def test_hil_doctor_checks_the_tools_of_the_resources_the_bench_file_names(tmp_path):
    from hil.bench.physical_bench import PhysicalBench
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH)
    names = [r.name for r in PhysicalBench(load_bench_file(path), discovery=object()).tool_requirements()]
    assert names == ["picotool", "uhubctl", "gpioset"]
