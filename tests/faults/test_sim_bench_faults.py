"""Faults on the simulated bench, with the real lesson firmware in rp2040js: a firmware busy past its deadline is
reset and answers again, and a run killed with SIGTERM in the middle of a scenario leaves parseable JUnit and
results files. Skipped where the simulator cannot run (no Node.js) or the firmware cannot be built."""
from __future__ import annotations

import shutil
import signal
import time

import pytest

from hil.board.board_factory import make_board
from hil.errors import HilError, StepTimeout
from hil.scenario.artifacts import Artifacts
from hil.board.board import ProvisionArtifacts
from tests.faults.fault_run import PROJECT_ROOT, STOP_TIMEOUT_S, FaultRun

BENCH_START_TIMEOUT_S = 60.0
PROVISION_TIMEOUT_S = 60.0
RESET_TIMEOUT_S = 20.0
COMMAND_TIMEOUT_S = 2.0
BUSY_COMMAND = "bench crc32 16777216"   # the longest computation the protocol allows: seconds in the emulator
START_TIMEOUT_S = 60.0                  # the interrupted run reaching its waiting step (includes provisioning)
POLL_S = 0.05

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the simulated bench needs Node.js")


@pytest.fixture(scope="module")
def lesson_image():
    try:
        return Artifacts(PROJECT_ROOT).firmware("lesson")
    except HilError as error:
        pytest.skip(f"the lesson firmware cannot be built here: {error}")


@pytest.fixture(scope="module")
def sim_bench(tmp_path_factory, lesson_image):
    """One simulated Rust board for the module, already running the lesson firmware."""
    from hil.sim.sim_bench import SimBench
    bench = SimBench(sim_dir=tmp_path_factory.mktemp("sim"), rust_count=1, micropython_count=0)
    bench.start(BENCH_START_TIMEOUT_S)
    try:
        board = make_board(bench, bench.specs[0])
        board.provision(ProvisionArtifacts(firmware=lesson_image), PROVISION_TIMEOUT_S)
        board.close()
        yield bench
    finally:
        bench.stop()


@pytest.fixture
def sim_rust_board(sim_bench, tmp_path):
    board = make_board(sim_bench, sim_bench.specs[0])
    board.switch_log(tmp_path / "serial.log")
    yield board
    board.close()


def test_firmware_busy_past_the_deadline_times_out_and_is_reset_into_answering(sim_rust_board, stopwatch):
    board = sim_rust_board
    board.transport.write(BUSY_COMMAND + "\n")
    clock = stopwatch()
    with pytest.raises(StepTimeout) as caught:
        board.command("ping", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    assert f"board '{board.board_id}'" in str(caught.value)
    board.reset(RESET_TIMEOUT_S)   # through the probe-rs stand-in, as with a debug probe
    assert board.command("ping", COMMAND_TIMEOUT_S).group(0).strip() == "OK pong"


def test_sigterm_mid_scenario_on_the_simulated_bench_leaves_junit_results_and_logs(tmp_path, sim_bench):
    run = FaultRun(tmp_path, {})
    run.scenario("a_done", """\
        scenario: done
        claim: The firmware answers.
        boards:
          r: {runtime: rust, firmware: lesson}
        steps:
          - {on: r, command: ping, expect: '^OK pong'}
    """)
    run.scenario("b_interrupted", """\
        scenario: interrupted
        claim: A line that never comes.
        boards:
          r: {runtime: rust, firmware: lesson}
        steps:
          - {on: r, command: ping}
          - {on: r, expect: 'NEVER SENT', timeout_s: 60}
    """)
    board = sim_bench.specs[0]
    bench_file = tmp_path / "bench.yaml"
    bench_file.write_text(f"bench: sim\nkind: sim\nboards:\n  - {{id: {board.board_id}, runtime: rust}}\n")
    proc = run.start_on_sim(sim_bench.sim_dir, bench_file)   # joins the module's simulator
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(folder.endswith("_interrupted") and "RX OK pong" in log.read_text(errors="replace")
                      for folder, log in run.serial_logs().items()):
            assert proc.poll() is None, f"the run ended early:\n{proc.stdout.read()}"
            assert time.monotonic() < deadline, "the run never reached the waiting step"
            time.sleep(POLL_S)
        signalled_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert time.monotonic() - signalled_at < STOP_TIMEOUT_S
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "done" in run.junit_cases()
    statuses = {claim["name"]: claim["status"] for claim in run.results()["claims"]}
    assert statuses == {"done": "passed", "interrupted": "interrupted"}
    assert all(log.stat().st_size > 0 for log in run.serial_logs().values())
