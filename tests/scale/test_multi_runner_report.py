"""Several hosts: each runner runs its own boards and writes its own results; `hil report` merges the files into
one report that keeps each claim's run (host and bench) and each board's identity. Two runners are played here
by two pytest runs at once, one with a board on a local port, one with a board reached through rfc2217://."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.deploy.fake_micropython_board import FakeMicroPythonBoard
from tests.scale.conftest import PROJECT_ROOT
from tests.scale.rfc2217_server import Rfc2217Server
from tests.scale.scenario_project import RUN_TIMEOUT_S, pytest_argv, write_bench_file, write_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")


@pytest.fixture
def two_boards(tmp_path):
    boards = [FakeMicroPythonBoard(tmp_path / name) for name in ("board-a", "board-b")]
    yield boards
    for board in boards:
        board.close()


def test_results_of_two_runners_merge_into_one_report_keeping_run_and_board_identity(tmp_path, lock_dir,
                                                                                       two_boards):
    project = tmp_path / "project"
    project.mkdir()
    write_project(project)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    local_board, remote_board = two_boards
    with Rfc2217Server(remote_board.port) as server:
        benches = {"runner-a": write_bench_file(project / "runner-a.yaml", "pico-a", local_board.port),
                   "runner-b": write_bench_file(project / "runner-b.yaml", "pico-b", server.url)}
        runs = {name: subprocess.Popen([sys.executable, "-m", "pytest",
                                        *pytest_argv(bench, f"{name}/results.json")],
                                       cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                for name, bench in benches.items()}
        outputs = {name: run.communicate(timeout=RUN_TIMEOUT_S)[0].decode() for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, outputs[name]

    report = subprocess.run([sys.executable, "-m", "hil.cli", "report", "runner-a/results.json",
                             "runner-b/results.json", "-o", "merged/report.html", "--merged-results",
                             "merged/results.json"], cwd=project, env=env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S)
    assert report.returncode == 0, report.stderr

    merged = json.loads((project / "merged" / "results.json").read_text())
    assert sorted(run["bench"] for run in merged["runs"]) == sorted(str(path) for path in benches.values())
    assert all(run["host"] for run in merged["runs"])
    by_bench = {os.path.basename(merged["runs"][c["run_index"]]["bench"]): c for c in merged["claims"]}
    assert set(by_bench) == {"runner-a.yaml", "runner-b.yaml"}
    assert {name: c["status"] for name, c in by_bench.items()} == {"runner-a.yaml": "passed",
                                                                   "runner-b.yaml": "passed"}
    assert by_bench["runner-a.yaml"]["boards"]["pico-a"]["port"] == local_board.port
    assert by_bench["runner-b.yaml"]["boards"]["pico-b"]["port"] == server.url
    html = (project / "merged" / "report.html").read_text()
    assert "pico-a" in html and "pico-b" in html
