"""Fixtures of the fault tests: a bench of pretend Picos with fake flashing tools, boards built on it by the
framework's own factory, a fake firmware image, and a stopwatch that holds every fault to its deadline."""
from __future__ import annotations

import time

import pytest

from hil.board.board_factory import make_board
from hil.deploy.firmware_image import FirmwareImage
from tests.faults.fault_bench import FaultBench
from tests.faults.pretend_pico import NEW_BUILD_ID

# Every fault must surface within its deadline plus this much (the promise to users).
DEADLINE_SLACK_S = 1.0


class Stopwatch:
    def __init__(self):
        self.started_at = time.monotonic()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_at

    def assert_within(self, timeout_s: float) -> None:
        assert self.elapsed_s <= timeout_s + DEADLINE_SLACK_S, \
            f"took {self.elapsed_s:.2f} s; the deadline was {timeout_s:g} s (+{DEADLINE_SLACK_S:g} s allowed)"


@pytest.fixture
def stopwatch():
    return Stopwatch


@pytest.fixture
def fault_bench(tmp_path):
    """fault_bench({"pico-r": "rust"}, behaviours={"pico-r": SILENT}, missing_tools=("probe-rs",))"""
    made: list[FaultBench] = []

    def make(boards: dict[str, str], behaviours: dict[str, str] | None = None,
             missing_tools: tuple[str, ...] = ()) -> FaultBench:
        bench = FaultBench(tmp_path / f"bench-{len(made)}", boards, behaviours, missing_tools)
        made.append(bench)
        return bench
    yield make
    for bench in made:
        bench.stop()


@pytest.fixture
def board_on(tmp_path):
    """board_on(bench, board_id): the framework's Board for it (real flasher/deployer), logging to tmp_path."""
    boards = []

    def make(bench: FaultBench, board_id: str):
        board = make_board(bench, bench.spec(board_id))
        board.switch_log(tmp_path / f"{board_id}.log")
        boards.append(board)
        return board
    yield make
    for board in boards:
        board.close()
        board.log.close()


@pytest.fixture
def new_firmware(tmp_path) -> FirmwareImage:
    """An image the pretend Pico does not run yet (so provisioning flashes it); it says which build it is."""
    elf = tmp_path / "lesson.elf"
    elf.write_bytes(b"\x7fELF fake lesson image build=" + NEW_BUILD_ID.encode() + b"\n")
    return FirmwareImage(elf_path=elf, uf2_path=None, build_id=NEW_BUILD_ID)
