"""A board found broken fails every later test of the same run at once, with the first reason, in every worker;
the next run starts with a clean slate (the mark lives in the run's folder, not beside the host-wide lock)."""
from __future__ import annotations

import pytest

from tests.scale.conftest import PROJECT_ROOT
from tests.scale.scenario_project import RUN_TIMEOUT_S, write_bench_file

pytest_plugins = ["pytester"]

FIRST_RUN = """
import pathlib, time
import pytest
from hil.errors import BoardBroken

MARKED = pathlib.Path("marked")      # with two workers, test_b may start first: it waits for test_a's mark

def test_a_finds_the_board_broken(hil_board_pool):
    board = hil_board_pool.acquire("micropython", timeout_s=10)
    hil_board_pool.mark_broken(board, "its port vanished and did not come back")
    hil_board_pool.release(board)
    MARKED.write_text("1")

def test_b_later_in_the_run_fails_fast_with_the_first_reason(hil_board_pool):
    deadline = time.monotonic() + 30
    while not MARKED.exists():
        assert time.monotonic() < deadline, "test_a never marked the board"
        time.sleep(0.05)
    with pytest.raises(BoardBroken, match="its port vanished"):
        hil_board_pool.acquire("micropython", timeout_s=10)
"""

NEXT_RUN = """
def test_the_next_run_can_use_the_board_again(hil_board_pool):
    board = hil_board_pool.acquire("micropython", timeout_s=10)
    hil_board_pool.release(board)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "two-workers"])
def test_a_broken_mark_holds_for_the_rest_of_the_run_and_not_for_the_next_run(pytester, monkeypatch, lock_dir,
                                                                              pty_bench, workers):
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    _manifest, (board,) = pty_bench(1)
    bench_file = write_bench_file(pytester.path / "bench.yaml", "pico-mpy", board.port)
    argv = ["-p", "no:cacheprovider", f"--hil-bench={bench_file}", *workers]

    pytester.makepyfile(test_run=FIRST_RUN)
    first = pytester.runpytest_subprocess(*argv, timeout=RUN_TIMEOUT_S)
    first.assert_outcomes(passed=2)

    pytester.makepyfile(test_run=NEXT_RUN)
    pytester.runpytest_subprocess(*argv, timeout=RUN_TIMEOUT_S).assert_outcomes(passed=1)
