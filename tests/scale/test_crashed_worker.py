"""A worker that dies mid-test (SIGKILL: no cleanup code runs) gives its board back, because the OS drops a dead
process's file locks; the run goes on and records the crashed test."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.scale.pty_bench import ConsoleBoard as Board
from hil.board.board_pool import BoardPool
from hil.errors import BoardBusy
from tests.scale.conftest import PROJECT_ROOT
from tests.scale.pty_bench import POOL_CONFTEST, PtyBench

pytest_plugins = ["pytester"]

HELD_TIMEOUT_S = 20.0
BUSY_PROBE_S = 0.2
REACQUIRE_TIMEOUT_S = 5.0
RUN_TIMEOUT_S = 120

# A holder in its own process: takes the board, says so, then waits to be killed.
HOLDER = """
import sys, time
from tests.scale.pty_bench import ConsoleBoard as Board
from hil.board.board_pool import BoardPool
from tests.scale.pty_bench import PtyBench
bench = PtyBench.from_manifest(sys.argv[1])
pool = BoardPool(bench, sys.argv[2], lambda spec: Board(spec, bench))
board = pool.acquire("micropython", timeout_s=10)
print("held", board.board_id, flush=True)
time.sleep(120)
"""


def _pool(manifest, lock_dir) -> BoardPool:
    bench = PtyBench.from_manifest(manifest)
    return BoardPool(bench, lock_dir, lambda spec: Board(spec, bench))


def test_a_board_held_by_a_killed_process_is_free_again_at_once(lock_dir, pty_bench):
    manifest, _boards = pty_bench(1)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(manifest), str(lock_dir)], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    try:
        assert holder.stdout.readline().split() == ["held", "pico-0"]
        pool = _pool(manifest, lock_dir)
        with pytest.raises(BoardBusy):
            pool.acquire("micropython", timeout_s=BUSY_PROBE_S)

        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=HELD_TIMEOUT_S)
        started = time.monotonic()
        board = pool.acquire("micropython", timeout_s=REACQUIRE_TIMEOUT_S)
        assert board.board_id == "pico-0"
        assert time.monotonic() - started < REACQUIRE_TIMEOUT_S
        pool.release(board)
    finally:
        holder.kill()
        holder.wait(timeout=HELD_TIMEOUT_S)


# Two workers, one board: the first item kills its own worker while holding the board; the others need it.
CRASHING_WORKLOAD = """
import os, signal, time
import pytest

ACQUIRE_TIMEOUT_S = 30

@pytest.mark.parametrize("index", range(6))
def test_needs_the_board(index, hil_board_pool):
    board = hil_board_pool.acquire("micropython", timeout_s=ACQUIRE_TIMEOUT_S)
    try:
        board.open(5)
        board.transport.write(f"BEGIN {index}\\n")
        if index == 0:
            time.sleep(0.3)                         # let the other worker start waiting for the board
            os.kill(os.getpid(), signal.SIGKILL)    # no finally, no atexit: only the OS can free the board
        time.sleep(0.05)
    finally:
        hil_board_pool.release(board)
"""


def test_a_worker_killed_mid_test_releases_its_board_and_the_run_finishes(pytester, monkeypatch, lock_dir,
                                                                            pty_bench):
    manifest, (board,) = pty_bench(1)
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    monkeypatch.setenv("HIL_SCALE_MANIFEST", str(manifest))
    pytester.makeconftest(POOL_CONFTEST)
    pytester.makepyfile(test_crash=CRASHING_WORKLOAD)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--hil-results=results.json",
                                           timeout=RUN_TIMEOUT_S)

    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["*crashed while running*test_needs_the_board?0?*"])
    assert sorted(line for _t, line in board.lines()) == [f"BEGIN {n}" for n in range(6)]
    claims = {c["name"]: c for c in json.loads((pytester.path / "results.json").read_text())["claims"]}
    crashed = claims["test_needs_the_board[0]"]
    assert crashed["status"] == "error" and "crashed while running" in crashed["reason"]
    assert [claims[f"test_needs_the_board[{n}]"]["status"] for n in range(1, 6)] == ["passed"] * 5
