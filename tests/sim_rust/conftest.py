"""Fixtures for the simulated Rust board and its tool stand-ins: test images generated in Python, a board
process held through socketpairs, and a bench of two boards behind the documented control socket."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.sim_rust import thumb_image
from tests.sim_rust.board_harness import REPO, BoardHarness
from tests.sim_rust.control_server import ControlServer, SimulatedRustBoard

STANDINS_DIR = REPO / "hil" / "sim" / "standins"
READY_TIMEOUT_S = 10.0

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


class SimBenchForTools:
    """Two Rust boards behind a control socket, and the environment the framework runs the stand-ins with."""

    def __init__(self, sim_dir: Path, boards: list[SimulatedRustBoard]):
        self.sim_dir = sim_dir
        self.boards = {b.board_id: b for b in boards}
        self.server = ControlServer(sim_dir, boards)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{STANDINS_DIR}{os.pathsep}{env.get('PATH', '')}"
        env["HIL_SIM_DIR"] = str(self.sim_dir)
        env["HIL_SIM_FLASH_TIMING"] = "instant"
        env.update(extra)
        return env

    def harness(self, board_id: str) -> BoardHarness:
        return self.boards[board_id].harness


@pytest.fixture
def tool_bench(tmp_path: Path, start_board) -> SimBenchForTools:
    sim_dir = tmp_path / "sim"
    sim_dir.mkdir()
    boards = [SimulatedRustBoard("rust0", "E6614C311B597D30", start_board("rust0")),
              SimulatedRustBoard("rust1", "E6614C311B597D31", start_board("rust1"))]
    bench = SimBenchForTools(sim_dir, boards)
    yield bench
    bench.server.close()
