"""Serial logs are evidence: a run never appends to a log another run (or a concurrent one) wrote, and two tests
whose ids differ only in characters a file name cannot hold still get two log folders."""
from __future__ import annotations

import subprocess
import sys

from hil.run_context import safe_name
from hil.transport.serial_log import RX, SerialLog

WRITER_TIMEOUT_S = 60.0


def test_a_log_left_by_another_process_is_kept_and_this_run_writes_beside_it(tmp_path):
    path = tmp_path / "pico-a.log"
    code = ("import sys; from hil.transport.serial_log import SerialLog, RX; "
            "log = SerialLog(sys.argv[1]); log.record(RX, b'earlier run'); log.close()")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=WRITER_TIMEOUT_S)
    log = SerialLog(path)
    log.record(RX, b"this run")
    written = log.path
    log.close()
    assert "earlier run" in path.read_text() and "this run" not in path.read_text()
    assert written == tmp_path / "pico-a-2.log" and "this run" in written.read_text()


def test_a_board_switched_back_to_its_test_log_in_the_same_run_appends(tmp_path):
    log = SerialLog(tmp_path / "t1" / "b.log")
    log.record(RX, b"first")
    log.switch(tmp_path / "t2" / "b.log")
    log.switch(tmp_path / "t1" / "b.log")
    log.record(RX, b"second")
    log.close()
    text = (tmp_path / "t1" / "b.log").read_text()
    assert "first" in text and "second" in text and not (tmp_path / "t1" / "b-2.log").exists()


def test_names_that_differ_only_in_slash_and_underscore_get_different_folders():
    assert safe_name("scenarios/a/b.yaml::x") != safe_name("scenarios/a_b.yaml::x")
    assert safe_name("plain_name") == "plain_name"
    assert "/" not in safe_name("a/b") and len(safe_name("x" * 1000)) < 200
