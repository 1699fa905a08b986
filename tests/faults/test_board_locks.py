"""Two users, one board: locks are keyed by the device (resolved port path, USB serial), not by how a bench file
spells it or names it, and the commands that drive one board take the same lock as test runs."""
from __future__ import annotations

import os
import time

import pytest

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec
from hil.board.board_pool import BoardPool
from hil.commands.board_lease_cli import board_lease
from hil.deadline import Deadline
from hil.errors import BoardBusy

BUSY_WAIT_S = 0.3


class SpelledBench(Bench):
    """A physical-style bench naming one board by `port` or `serial_number`, under `board_id`."""

    name = "spelled"

    def __init__(self, board_id: str, port: str | None = None, serial_number: str | None = None):
        self.specs = [BoardSpec(board_id, "micropython", serial_number=serial_number, port=port,
                                flash_method="mpremote")]

    def locate_port(self, spec, timeout_s):
        return spec.port

    def attached(self):
        return []

    def device_clock_domain(self, runtime):
        return "device"


def _pool(bench: Bench, lock_dir) -> BoardPool:
    return BoardPool(bench, lock_dir, make_board=lambda spec: _NoBoard(spec))


class _NoBoard:
    def __init__(self, spec):
        self.board_id = spec.board_id

    def close(self):
        pass


@pytest.fixture
def device(tmp_path):
    target = tmp_path / "ttyACM0"
    target.write_text("")
    link = tmp_path / "by-id-usb-Raspberry_Pi_Pico-if00"
    link.symlink_to(target)
    return target, link


def test_a_symlink_and_its_target_are_one_board_for_the_lock(tmp_path, device):
    target, link = device
    run_a = _pool(SpelledBench("pico-a", port=str(link)), tmp_path / "locks")
    run_b = _pool(SpelledBench("other-name", port=os.path.relpath(target)), tmp_path / "locks")
    board = run_a.acquire("micropython", timeout_s=1)
    start = time.monotonic()
    with pytest.raises(BoardBusy):
        run_b.acquire("micropython", timeout_s=BUSY_WAIT_S)
    assert time.monotonic() - start < BUSY_WAIT_S + 1
    run_a.release(board)
    run_b.release(run_b.acquire("micropython", timeout_s=1))


def test_one_usb_serial_under_two_board_ids_is_one_lock(tmp_path):
    run_a = _pool(SpelledBench("pico-a", serial_number="E6614103E7"), tmp_path / "locks")
    run_b = _pool(SpelledBench("pico-b", serial_number="E6614103E7"), tmp_path / "locks")
    held = run_a.acquire("micropython", timeout_s=1)
    with pytest.raises(BoardBusy):
        run_b.acquire("micropython", timeout_s=BUSY_WAIT_S)
    run_a.release(held)


def test_a_deploy_or_flash_waits_for_the_run_holding_the_board_and_gives_up_at_its_deadline(tmp_path, device,
                                                                                          monkeypatch):
    target, link = device
    monkeypatch.setenv("HIL_LOCK_DIR", str(tmp_path / "locks"))
    run = _pool(SpelledBench("pico-a", port=str(link)), tmp_path / "locks")
    held = run.acquire("micropython", timeout_s=1)
    command_bench = SpelledBench("pico-m", port=str(target))
    start = time.monotonic()
    with pytest.raises(BoardBusy, match="pico-m"):
        with board_lease(command_bench, command_bench.spec("pico-m"), Deadline(BUSY_WAIT_S)):
            pytest.fail("the command drove a board a run holds")
    assert time.monotonic() - start < BUSY_WAIT_S + 1
    run.release(held)
    with board_lease(command_bench, command_bench.spec("pico-m"), Deadline(1)) as lease:
        assert list(lease.boards) == ["pico-m"]
