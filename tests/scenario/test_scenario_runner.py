"""The step runner against a pretend board on a real PTY: stream matching waits for whole lines, records carry the
board's clock, and a scenario's failure names the file and line of its step."""
from __future__ import annotations

import threading
import time
import textwrap
from pathlib import Path

import pytest

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec
from hil.board.rust_board import RustBoard
from hil.errors import StepFailed
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_file import load_scenario
from hil.scenario.scenario_runner import ScenarioRunner
from tests.core.pty_device import PtyDevice


class PtyBench(Bench):
    name = "pty"

    def __init__(self, device: PtyDevice):
        self.device = device
        self.specs = [BoardSpec("pico-r", "rust", serial_number="PTY1", flash_method="probe-rs")]

    def locate_port(self, spec, timeout_s):
        return self.device.locate(timeout_s)

    def attached(self):
        return []

    def device_clock_domain(self, runtime):
        return "device"


@pytest.fixture
def device(tmp_path):
    dev = PtyDevice(tmp_path / "tty")
    yield dev
    dev.close()


def wait_for_the_runner(device: PtyDevice, sent: bytes, timeout_s: float = 30.0) -> None:
    """Until the runner has opened its side of the PTY and sent `sent`: an answer before that would be lost,
    however loaded the machine."""
    received, give_up_at = b"", time.monotonic() + timeout_s
    while sent not in received and time.monotonic() < give_up_at:
        try:
            received += device.receive(64, timeout_s=0.1)
        except OSError:         # the runner has not opened its side of the PTY yet
            time.sleep(0.01)


def answer_once_sent(device: PtyDevice, sent: bytes, *parts: bytes, delay_s: float = 0.0, gap_s: float = 0.0):
    """In the background, as a board would: once the runner has sent `sent`, wait `delay_s`, then send `parts`
    `gap_s` apart."""
    def answer():
        wait_for_the_runner(device, sent)
        time.sleep(delay_s)
        for index, part in enumerate(parts):
            if index:
                time.sleep(gap_s)
            device.send(part)

    threading.Thread(target=answer, daemon=True).start()


def run_scenario(tmp_path: Path, device: PtyDevice, steps: str):
    path = tmp_path / "s.yaml"
    path.write_text("scenario: s\nclaim: c\nboards:\n  rust: {runtime: rust, provision: false}\nsteps:\n"
                    + textwrap.indent(textwrap.dedent(steps), "  "))
    scenario = load_scenario(path, tmp_path)
    bench = PtyBench(device)
    board = RustBoard(bench.specs[0], bench, flasher=None)
    metrics, evidence = [], {}
    runner = ScenarioRunner(scenario, {"rust": board}, Artifacts(tmp_path), metrics.append,
                            evidence.__setitem__)
    try:
        runner.run()
    finally:
        board.close()
    return {m.name: m for m in metrics}, evidence


def test_a_stream_expect_waits_for_the_whole_line_before_recording(tmp_path, device):
    answer_once_sent(device, b"tx 3", b"OK tx n=3 us=12", b"34\r\n", gap_s=0.3)
    metrics, _ = run_scenario(tmp_path, device, """\
        - {on: rust, send: "tx 3\\n", expect: 'us=(?P<us>\\d+)', record: {rust_tx_us: us}, timeout_s: 3}
        """)
    assert metrics["rust_tx_us"].value == 1234
    assert (metrics["rust_tx_us"].unit, metrics["rust_tx_us"].clock_domain) == ("us", "device")


# A pattern that sets verbose and ignore-case inline must not swallow the runner's PANIC alternative.
@pytest.mark.parametrize("expect", ["never", "(?xi) never  "])
def test_a_panic_line_ends_a_stream_wait_at_once_with_the_panic_as_evidence(tmp_path, device, expect):
    answer_once_sent(device, b"go", b"PANIC boom at src/x.rs:7\r\n")
    start = time.monotonic()
    with pytest.raises(StepFailed) as caught:
        run_scenario(tmp_path, device, f"""\
            - {{on: rust, send: "go\\n", expect: '{expect}', timeout_s: 10}}
            """)
    assert time.monotonic() - start < 5
    assert "s.yaml:6: step 1 (line 6): the board panicked: PANIC boom at src/x.rs:7" in str(caught.value)


def test_command_records_from_the_final_line_and_elapsed_on_the_host_clock(tmp_path, device):
    answer_once_sent(device, b"bench sort 10", b"OK sort n=10 ok=1 us=77\n", delay_s=0.1)
    metrics, _ = run_scenario(tmp_path, device, """\
        - {on: rust, command: bench sort 10, expect: 'ok=1 us=(?P<us>\\d+)', record: {rust_sort_us: us},
           record_elapsed: rust_sort_round_trip_s}
        """)
    assert metrics["rust_sort_us"].value == 77
    assert metrics["rust_sort_round_trip_s"].clock_domain == "host"
    assert 0.1 <= metrics["rust_sort_round_trip_s"].value < 10


def test_a_backtracking_regex_ends_within_its_step_deadline_naming_the_pattern(tmp_path, device):
    # (a|aa)+$ on 60 a's and a '!' backtracks for hours with `re`; the step's 3 s bound it. The bound below is
    # loose so that a loaded machine cannot fail it, and still far below what an unbounded match takes.
    answer_once_sent(device, b"go", b"a" * 60 + b"!\n")
    start = time.monotonic()
    with pytest.raises(StepFailed) as caught:
        run_scenario(tmp_path, device, """\
            - {on: rust, send: "go\\n", expect: '(a|aa)+$', timeout_s: 3}
            """)
    assert time.monotonic() - start < 15
    assert "PatternTooSlow" in str(caught.value) and "(a|aa)+$" in str(caught.value)


def test_matching_a_late_answer_gets_only_what_is_left_of_the_step_deadline(tmp_path, device):
    # The answer arrives 2.5 s into a 3 s step; a backtracking pattern on it may use the 0.5 s left, not a fresh
    # budget of its own, so the step ends near its deadline rather than up to a second after it.
    answer_once_sent(device, b"go", b"OK " + b"a" * 60 + b"!\n", delay_s=2.5)
    with pytest.raises(StepFailed) as caught:
        run_scenario(tmp_path, device, """\
            - {on: rust, command: go, expect: '(a|aa)+$', timeout_s: 3}
            """)
    too_slow = caught.value.__cause__
    assert type(too_slow).__name__ == "PatternTooSlow"
    assert too_slow.timeout_s <= 0.55


def test_a_backreference_keeps_its_number_inside_the_runner_wrapping(tmp_path, device):
    # On a Rust board the runner adds a PANIC alternative; \1 must still mean the user's first group.
    answer_once_sent(device, b"go", b"OK echo ab ab us=5\n")
    metrics, _ = run_scenario(tmp_path, device, """\
        - {on: rust, send: "go\\n", expect: 'echo (\\w+) \\1 us=(?P<us>\\d+)', record: {echo_us: us}, timeout_s: 3}
        """)
    assert metrics["echo_us"].value == 5


def test_an_inline_global_flag_runs_as_checked(tmp_path, device):
    answer_once_sent(device, b"go", b"OK SORT us=9\n")
    metrics, _ = run_scenario(tmp_path, device, """\
        - {on: rust, send: "go\\n", expect: '(?i)sort us=(?P<us>\\d+)', record: {sort_us: us}, timeout_s: 3}
        """)
    assert metrics["sort_us"].value == 9


@pytest.mark.parametrize("verify_key, verify", [("", None), (", deploy_verify: true", True)])
def test_a_scenarios_deploy_verify_reaches_the_boards_provision_artifacts(tmp_path, verify_key, verify):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "main.py").write_text("print(1)\n")
    path = tmp_path / "s.yaml"
    path.write_text("scenario: s\nclaim: c\nboards:\n"
                    f"  mpy: {{runtime: micropython, deploy: [scripts]{verify_key}}}\n"
                    "steps:\n  - {on: mpy, exec: 'print(1)'}\n")
    runner = ScenarioRunner(load_scenario(path, tmp_path), {}, Artifacts(tmp_path), list().append, dict().__setitem__)
    artifacts = runner.artifacts_for("mpy")
    assert artifacts.verify is verify
    assert [board_path for _, board_path in artifacts.files] == ["/main.py"]
