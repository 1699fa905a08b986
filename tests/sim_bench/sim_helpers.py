"""Helpers for the simulated bench's infrastructure tests: the fake board process, waiting, process checks, and
a supervisor subprocess serving fake boards."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hil.deadline import Deadline
from hil.sim.control_client import ControlClient

REPO_ROOT = Path(__file__).resolve().parents[2]
ECHO_BOARD = Path(__file__).resolve().parent / "echo_board.py"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


def echo_board_commands() -> dict[str, list[str]]:
    command = [sys.executable, str(ECHO_BOARD)]
    return {"rust": command, "micropython": command}


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(predicate, timeout_s: float, what: str):
    deadline = Deadline(timeout_s)
    while True:
        value = predicate()
        if value:
            return value
        if deadline.expired:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.02)


class RunningSupervisor:
    """A supervisor subprocess (python -m hil.sim.supervisor) serving fake boards."""

    def __init__(self, sim_dir: Path, args: list[str]):
        self.sim_dir = sim_dir
        self.log_path = sim_dir / "test-supervisor.log"
        argv = [sys.executable, "-m", "hil.sim.supervisor", "--sim-dir", str(sim_dir),
                "--board-command-json", json.dumps(echo_board_commands()), *args]
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        self.client = ControlClient(sim_dir)

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> list[dict]:
        def all_ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"supervisor exited: {self.log_path.read_text()}")
            try:
                boards = ControlClient(self.sim_dir).list_boards(1.0)
            except Exception:
                return None
            return boards if boards and all(b["process_state"] == "ready" for b in boards) else None
        return wait_until(all_ready, timeout_s, "all boards ready")

    def boards(self) -> dict[str, dict]:
        return {b["id"]: b for b in self.client.list_boards(5.0)}

    def stop(self) -> None:
        self.client.close()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
