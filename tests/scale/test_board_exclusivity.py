"""Many boards on one host: `pytest -n N` spreads items over workers, and each board is used by one worker at a
time. Every item records (board, worker, start, end); the boards themselves log who wrote to them; no two holds of
one board may overlap. Results from all workers end up in one JUnit file and one results JSON."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.scale.conftest import PROJECT_ROOT
from tests.scale.ownership import interleaved_users, overlapping_holds
from tests.scale.pty_bench import POOL_CONFTEST

pytest_plugins = ["pytester"]

ITEMS = 40
RUN_TIMEOUT_S = 120

# Each item holds one board for a short, varying time and says so on the board's own serial link.
WORKLOAD = """
import json, os, random, time
import pytest
from hil.results.pytest_results import record_board

ACQUIRE_TIMEOUT_S = 60
OPEN_TIMEOUT_S = 5
HOLD_S = (0.02, 0.12)

def _append(path, record):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (json.dumps(record) + "\\n").encode())   # one write: lines from workers never interleave
    finally:
        os.close(fd)

@pytest.mark.parametrize("index", range(%(items)d))
def test_holds_one_board(index, hil_board_pool, request):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    board = hil_board_pool.acquire("micropython", timeout_s=ACQUIRE_TIMEOUT_S)
    try:
        start = time.monotonic()
        board.open(OPEN_TIMEOUT_S)
        board.transport.write(f"BEGIN {worker} {index}\\n")
        time.sleep(random.uniform(*HOLD_S))
        board.transport.write(f"END {worker} {index}\\n")
        record_board(request.node, {"id": board.board_id, "worker": worker})
        end = time.monotonic()
    finally:
        hil_board_pool.release(board)
    _append(os.environ["HIL_SCALE_INTERVALS"], {"board": board.board_id, "worker": worker, "index": index,
                                                "start": start, "end": end})
"""


def run_many_items(pytester, monkeypatch, manifest, workers: int):
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    monkeypatch.setenv("HIL_SCALE_MANIFEST", str(manifest))
    intervals_path = pytester.path / "intervals.jsonl"
    monkeypatch.setenv("HIL_SCALE_INTERVALS", str(intervals_path))
    pytester.makeconftest(POOL_CONFTEST)
    pytester.makepyfile(test_workload=WORKLOAD % {"items": ITEMS})
    result = pytester.runpytest_subprocess("-n", str(workers), "-p", "no:cacheprovider", "--junitxml=junit.xml",
                                           "--hil-results=results.json", timeout=RUN_TIMEOUT_S)
    intervals = [json.loads(line) for line in intervals_path.read_text().splitlines()]
    return result, intervals


@pytest.mark.parametrize("board_count", [4, 2], ids=["4-boards", "2-boards-workers-wait"])
def test_four_workers_never_share_a_board_and_use_them_all(pytester, monkeypatch, lock_dir, pty_bench,
                                                           board_count):
    manifest, boards = pty_bench(board_count)
    result, intervals = run_many_items(pytester, monkeypatch, manifest, workers=4)

    result.assert_outcomes(passed=ITEMS)
    assert len(intervals) == ITEMS
    assert overlapping_holds(intervals) == []
    for board in boards:
        assert interleaved_users(board.lines()) == [], board.port
    assert {i["board"] for i in intervals} == {f"pico-{n}" for n in range(board_count)}
    assert len({i["worker"] for i in intervals}) == 4


def test_results_of_all_workers_land_in_one_junit_file_and_one_results_json(pytester, monkeypatch, lock_dir,
                                                                              pty_bench):
    manifest, _boards = pty_bench(4)
    result, intervals = run_many_items(pytester, monkeypatch, manifest, workers=4)
    result.assert_outcomes(passed=ITEMS)

    cases = list(ET.parse(pytester.path / "junit.xml").iter("testcase"))
    assert len(cases) == ITEMS
    document = json.loads((pytester.path / "results.json").read_text())
    claims = {c["name"]: c for c in document["claims"]}
    assert len(claims) == ITEMS and {c["status"] for c in claims.values()} == {"passed"}
    # Each claim names the board and worker that ran it, as the item itself saw them.
    for interval in intervals:
        (board,) = claims[f"test_holds_one_board[{interval['index']}]"]["boards"].values()
        assert (board["id"], board["worker"]) == (interval["board"], interval["worker"])
