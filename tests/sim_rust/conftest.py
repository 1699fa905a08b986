"""Fixtures for the simulated Rust board and its tool stand-ins: test images generated in Python, a board
process held through socketpairs, and the simulated bench's supervisor with Rust boards."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.deadline import Deadline
from hil.process import stop_process_group
from hil.sim.control_client import ControlClient
from hil.sim.sim_errors import SimSupervisorUnavailable
from tests.sim_rust import thumb_image
from tests.sim_rust.board_harness import REPO, STANDINS_DIR, BoardHarness

READY_TIMEOUT_S = 10.0
SUPERVISOR_START_TIMEOUT_S = 20.0
SUPERVISOR_STOP_TIMEOUT_S = 10.0
STATUS_TIMEOUT_S = 10.0
POLL_S = 0.1
STATE_TIMEOUT_S = 10.0

if shutil.which("node") is None:
    pytest.skip("node is not installed: the simulated Rust board needs Node.js", allow_module_level=True)


class Images:
    """Each test firmware as ELF, UF2 and BIN files in one folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def write(self, name: str, program: thumb_image.ThumbProgram, **flash_options) -> dict[str, Path]:
        flash = thumb_image.build_flash(program, **flash_options)
        files = {
            "elf": thumb_image.elf_from_flash(flash),
            "uf2": thumb_image.uf2_from_flash(flash),
            "bin": flash,
        }
        paths = {}
        for kind, data in files.items():
            path = self.folder / f"{name}.{kind}"
            path.write_bytes(data)
            paths[kind] = path
        return paths


@pytest.fixture
def images(tmp_path: Path) -> Images:
    folder = tmp_path / "images"
    folder.mkdir()
    return Images(folder)


@pytest.fixture
def start_board(tmp_path: Path):
    """Starts board processes (state folders under tmp_path) and closes them after the test."""
    started: list[BoardHarness] = []

    def start(board_id: str = "rust0", options: dict | None = None) -> BoardHarness:
        harness = BoardHarness(tmp_path / "boards" / board_id, board_id, options)
        started.append(harness)
        harness.wait_event("ready", READY_TIMEOUT_S)
        return harness

    yield start
    for harness in started:
        harness.close()


@pytest.fixture
def board(start_board) -> BoardHarness:
    return start_board()


class SupervisedBench:
    """The simulated bench's supervisor (hil/sim/supervisor.py) running Rust boards, and the environment the
    framework gives external tools on it: the stand-ins first on PATH, HIL_SIM_DIR set."""

    def __init__(self, sim_dir: Path, rust_boards: int, link: str):
        self.sim_dir = sim_dir
        self.log = open(sim_dir.parent / "supervisor.log", "ab")
        argv = [sys.executable, "-m", "hil.sim.supervisor", "--sim-dir", str(sim_dir), "--rust", str(rust_boards),
                "--micropython", "0", "--link", link]
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=self.log, stderr=self.log, start_new_session=True)
        self.client = ControlClient(sim_dir)
        deadline = Deadline(SUPERVISOR_START_TIMEOUT_S)
        while True:
            try:
                self.boards = self.client.list_boards(deadline.remaining_s or POLL_S)
                break
            except SimSupervisorUnavailable:
                if deadline.expired or self.proc.poll() is not None:
                    self.stop()
                    raise
                time.sleep(POLL_S)

    def env(self, flash_timing: str = "instant") -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{STANDINS_DIR}{os.pathsep}{env.get('PATH', '')}"
        env["HIL_SIM_DIR"] = str(self.sim_dir)
        env["HIL_SIM_FLASH_TIMING"] = flash_timing
        return env

    def board(self, index: int) -> dict:
        return self.boards[index]

    def status(self, board: dict) -> dict:
        return self.client.board_command(board["id"], "status", STATUS_TIMEOUT_S)

    def wait_state(self, board: dict, state: str, timeout_s: float = STATE_TIMEOUT_S) -> dict:
        """The board's status once it reports `state` (or the last status when timeout_s runs out)."""
        deadline = Deadline(timeout_s)
        while True:
            status = self.status(board)
            if status["state"] == state or deadline.expired:
                return status
            time.sleep(POLL_S)

    def usb_port(self, board: dict) -> Path:
        return self.sim_dir / f"{board['id']}.usb"

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            stop_process_group(self.proc, SUPERVISOR_STOP_TIMEOUT_S)
        self.log.close()


@pytest.fixture
def sim_bench(tmp_path: Path) -> SupervisedBench:
    sim_dir = tmp_path / "sim"
    bench = SupervisedBench(sim_dir, rust_boards=2, link="usb-fs")
    yield bench
    bench.stop()
