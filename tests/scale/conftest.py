"""Fixtures for the scale tests: a bench of pseudo-terminal boards, and a private lock folder per test."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.scale.pty_bench import PtyBench
from tests.scale.recording_pty_board import RecordingPtyBoard

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pty_bench(tmp_path):
    """make(count, runtime="micropython") or make(runtimes=[...]) -> (manifest path, [RecordingPtyBoard]).

    Boards are named pico-0, pico-1, ... and closed after the test."""
    made: list[RecordingPtyBoard] = []

    def make(count: int = 0, runtime: str = "micropython", runtimes: list[str] | None = None):
        runtimes = runtimes or [runtime] * count
        boards = [RecordingPtyBoard(tmp_path / f"pico-{index}.port") for index in range(len(runtimes))]
        made.extend(boards)
        manifest = PtyBench.write_manifest(
            tmp_path / "bench.json", "pty",
            [{"id": f"pico-{index}", "runtime": kind, "port": board.port}
             for index, (kind, board) in enumerate(zip(runtimes, boards))])
        return manifest, boards

    yield make
    for board in made:
        board.close()
