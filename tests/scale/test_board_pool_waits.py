"""How a worker gets its boards: it waits for a busy one with a deadline, fails fast on a broken one, and takes a
scenario's several boards all at once or not at all, so two workers can never deadlock holding one each."""
from __future__ import annotations

import threading
import time

import pytest

from tests.scale.pty_bench import ConsoleBoard as Board
from hil.board.board_pool import BoardPool
from hil.errors import BoardBroken, BoardBusy, BoardNotFound
from tests.scale.pty_bench import PtyBench

RELEASE_AFTER_S = 0.3
SHORT_WAIT_S = 0.3
DEADLINE_SLACK_S = 0.5     # scheduling slack on a loaded 2-core machine
WAIT_TIMEOUT_S = 10.0
ROUNDS = 15
HOLD_S = 0.01


def worker_pool(manifest, lock_dir) -> BoardPool:
    """What one pytest-xdist worker has: its own bench object and pool over the host's shared lock folder."""
    bench = PtyBench.from_manifest(manifest)
    return BoardPool(bench, lock_dir, lambda spec: Board(spec, bench))


def test_a_worker_waits_for_the_busy_board_and_gets_it_once_freed(lock_dir, pty_bench):
    manifest, _ = pty_bench(1)
    first, second = worker_pool(manifest, lock_dir), worker_pool(manifest, lock_dir)
    held = first.acquire("micropython")
    releaser = threading.Timer(RELEASE_AFTER_S, first.release, args=[held])
    started = time.monotonic()
    releaser.start()
    board = second.acquire("micropython", timeout_s=WAIT_TIMEOUT_S)
    waited_s = time.monotonic() - started
    releaser.join()
    assert board.board_id == "pico-0"
    assert RELEASE_AFTER_S * 0.9 <= waited_s < WAIT_TIMEOUT_S
    second.release(board)


def test_waiting_for_a_board_ends_at_its_deadline_naming_the_busy_boards(lock_dir, pty_bench):
    manifest, _ = pty_bench(2)
    holder, waiter = worker_pool(manifest, lock_dir), worker_pool(manifest, lock_dir)
    held = [holder.acquire("micropython"), holder.acquire("micropython")]
    assert {b.board_id for b in held} == {"pico-0", "pico-1"}
    started = time.monotonic()
    with pytest.raises(BoardBusy, match=r"within 0.3 s \(pico-0, pico-1 all busy\)"):
        waiter.acquire("micropython", timeout_s=SHORT_WAIT_S)
    assert SHORT_WAIT_S <= time.monotonic() - started < SHORT_WAIT_S + DEADLINE_SLACK_S


def test_a_board_marked_broken_by_one_worker_fails_the_others_at_once_with_the_reason(lock_dir, pty_bench):
    manifest, _ = pty_bench(1)
    first, second = worker_pool(manifest, lock_dir), worker_pool(manifest, lock_dir)
    board = first.acquire("micropython")
    first.mark_broken(board, "port vanished and did not come back within 10 s")
    first.release(board)
    started = time.monotonic()
    with pytest.raises(BoardBroken, match="port vanished"):
        second.acquire("micropython", timeout_s=WAIT_TIMEOUT_S)
    assert time.monotonic() - started < SHORT_WAIT_S


def test_asking_for_more_boards_of_a_runtime_than_the_bench_has_fails_at_once(lock_dir, pty_bench):
    manifest, _ = pty_bench(runtimes=["rust", "micropython"])
    with pytest.raises(BoardNotFound, match="has no micropython 2 boards \\(it has 1\\)"):
        worker_pool(manifest, lock_dir).acquire_all(["micropython", "micropython"], timeout_s=WAIT_TIMEOUT_S)


def test_a_worker_that_cannot_have_all_its_boards_holds_none_of_them(lock_dir, pty_bench):
    manifest, _ = pty_bench(runtimes=["rust", "micropython"])
    holder, waiter, third = (worker_pool(manifest, lock_dir) for _ in range(3))
    holder.acquire("micropython")
    with pytest.raises(BoardBusy):
        waiter.acquire_all(["rust", "micropython"], timeout_s=SHORT_WAIT_S)
    # The rust board the waiter could have taken is free: it did not sit on it while waiting.
    assert third.acquire("rust", timeout_s=0).board_id == "pico-0"


def test_two_workers_taking_the_same_two_boards_in_opposite_orders_both_finish(lock_dir, pty_bench):
    manifest, _ = pty_bench(runtimes=["rust", "micropython"])
    finished: dict[str, int] = {}
    errors: list[BaseException] = []

    def scenario_loop(name: str, runtimes: list[str]) -> None:
        pool = worker_pool(manifest, lock_dir)
        try:
            for _ in range(ROUNDS):
                boards = pool.acquire_all(runtimes, timeout_s=WAIT_TIMEOUT_S)
                assert [b.spec.runtime for b in boards] == runtimes
                time.sleep(HOLD_S)
                for board in boards:
                    pool.release(board)
                finished[name] = finished.get(name, 0) + 1
        except BaseException as error:   # reported by the test below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=scenario_loop, args=("a", ["rust", "micropython"])),
               threading.Thread(target=scenario_loop, args=("b", ["micropython", "rust"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_TIMEOUT_S * 2)
    assert errors == []
    assert finished == {"a": ROUNDS, "b": ROUNDS}
