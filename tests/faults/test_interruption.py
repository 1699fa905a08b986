"""A run stopped by SIGTERM or SIGINT in the middle of a scenario step ends promptly and leaves a valid JUnit file,
a results JSON with every finished scenario and the interrupted one marked, and all serial logs on disk."""
from __future__ import annotations

import signal
import time

import pytest

from tests.faults.fault_run import FaultRun
from tests.faults.pretend_pico import HANG_COMMAND
from tests.faults.test_run_continues import PING_AS_IS, RUST

START_TIMEOUT_S = 30.0       # the run reaching the step to interrupt (includes Python start-up)
STOP_TIMEOUT_S = 10.0        # from the signal to the end of the run, files written
LOG_POLL_S = 0.05
WAITING_STEP_TIMEOUT_S = 60  # the interrupted step would wait this long on its own


def wait_for_log_text(run: FaultRun, test_suffix: str, text: str, proc) -> None:
    """Until the serial log of the test whose log folder ends with `test_suffix` contains `text`."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not any(folder.endswith(test_suffix) and text in log.read_text(errors="replace")
                  for folder, log in run.serial_logs().items()):
        assert proc.poll() is None, f"the run ended early:\n{proc.stdout.read()}"
        assert time.monotonic() < deadline, f"the run never logged {text!r}"
        time.sleep(LOG_POLL_S)


SECOND_SIGNAL_AFTER_S = 0.05   # a user pressing Ctrl-C twice


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT], [signal.SIGINT, signal.SIGINT],
                                     [signal.SIGTERM, signal.SIGINT, signal.SIGINT]],
                         ids=lambda s: "+".join(signal.Signals(n).name for n in s))
def test_a_signal_mid_step_leaves_junit_results_with_the_interrupted_scenario_marked_and_the_logs(tmp_path,
                                                                                                  signals):
    run = FaultRun(tmp_path, RUST)
    run.scenario("a_done", PING_AS_IS.format(name="done"))
    run.scenario("b_interrupted", f"""\
        scenario: interrupted
        claim: The firmware answers after a long computation.
        boards:
          r: {{runtime: rust, provision: false}}
        steps:
          - {{on: r, send: "{HANG_COMMAND}\\n"}}
          - {{on: r, command: ping, timeout_s: {WAITING_STEP_TIMEOUT_S}}}
    """)
    run.scenario("c_never", PING_AS_IS.format(name="never"))
    proc = run.start()
    try:
        wait_for_log_text(run, "_interrupted", "TX ping", proc)   # the step now waits for an answer
        signalled_at = time.monotonic()
        for index, signum in enumerate(signals):
            if index:
                time.sleep(SECOND_SIGNAL_AFTER_S)
            proc.send_signal(signum)
        output, _ = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert time.monotonic() - signalled_at < STOP_TIMEOUT_S
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output

    cases = run.junit_cases()   # parses: the file is complete XML
    assert "done" in cases and cases["done"].find("failure") is None and "never" not in cases

    results = run.results()
    statuses = {claim["name"]: claim["status"] for claim in results["claims"]}
    assert statuses == {"done": "passed", "interrupted": "interrupted"}
    assert results["run"]["interrupted"] is True and results["run"]["finished_at"]

    logs = run.serial_logs()
    done_log = next(path for folder, path in logs.items() if folder.endswith("_done"))
    interrupted_log = next(path for folder, path in logs.items() if folder.endswith("_interrupted"))
    assert "RX OK pong" in done_log.read_text()
    assert f"TX {HANG_COMMAND}" in interrupted_log.read_text() and "TX ping" in interrupted_log.read_text()
