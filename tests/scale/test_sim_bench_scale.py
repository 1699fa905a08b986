"""The same guarantees on the simulated bench: four simulated MicroPython Picos, `pytest -n 4`, many items. Each
item writes its BEGIN and END lines into a file on the board it holds (the board's own filesystem, in its emulated
flash, which outlives the run), so the boards themselves record who used them, and when."""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from hil.bench.bench_file import load_bench_file
from hil.sim.sim_bench import SimBench
from tests.scale.conftest import PROJECT_ROOT
from tests.scale.ownership import interleaved_users, overlapping_holds

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the simulated bench needs Node.js")

ITEMS = 40
WORKERS = 4
BOARD_IDS = [f"pico-{letter}" for letter in "abcd"]
RUN_TIMEOUT_S = 240
OWNERS_FILE = "owners.txt"
READ_BACK_TIMEOUT_S = 60.0

SIM_BENCH_FILE = "kind: sim\nbench: sim-four\nboards:\n" + "".join(
    f"  - {{id: {board_id}, runtime: micropython}}\n" for board_id in BOARD_IDS)

WORKLOAD = """
import json, os, time
import pytest
from hil.results.pytest_results import record_board

ACQUIRE_TIMEOUT_S = 120

def _append(path, record):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (json.dumps(record) + "\\n").encode())
    finally:
        os.close(fd)

def _note_on_board(board, line):
    board.exec(f"f = open('/%(owners)s', 'a'); f.write({line!r} + '\\\\n'); f.close()")

@pytest.mark.hil
@pytest.mark.parametrize("index", range(%(items)d))
def test_holds_one_simulated_board(index, hil_board_pool, request):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    board = hil_board_pool.acquire("micropython", timeout_s=ACQUIRE_TIMEOUT_S)
    try:
        start = time.monotonic()
        _note_on_board(board, f"BEGIN {worker} {index}")
        result = board.exec("print(sum(range(20000)))")
        assert result.stdout.strip() == str(sum(range(20000)))
        _note_on_board(board, f"END {worker} {index}")
        record_board(request.node, board.describe())
        end = time.monotonic()
    finally:
        hil_board_pool.release(board)
    _append(os.environ["HIL_SCALE_INTERVALS"], {"board": board.board_id, "worker": worker, "index": index,
                                                "start": start, "end": end})
"""


def test_four_workers_on_four_simulated_boards_never_share_one(pytester, monkeypatch, lock_dir, tmp_path_factory):
    sim_dir = tmp_path_factory.mktemp("sim")
    monkeypatch.setenv("HIL_SIM_DIR", str(sim_dir))
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    intervals_path = pytester.path / "intervals.jsonl"
    monkeypatch.setenv("HIL_SCALE_INTERVALS", str(intervals_path))
    bench_file = pytester.path / "sim-four.yaml"
    bench_file.write_text(SIM_BENCH_FILE)
    pytester.makepyfile(test_sim_workload=WORKLOAD % {"items": ITEMS, "owners": OWNERS_FILE})

    result = pytester.runpytest_subprocess("-n", str(WORKERS), "-p", "no:cacheprovider", "-m", "hil",
                                           f"--hil-bench={bench_file}", "--junitxml=junit.xml",
                                           "--hil-results=results.json", timeout=RUN_TIMEOUT_S)

    result.assert_outcomes(passed=ITEMS)
    intervals = [json.loads(line) for line in intervals_path.read_text().splitlines()]
    assert len(intervals) == ITEMS
    assert overlapping_holds(intervals) == []
    assert {i["board"] for i in intervals} == set(BOARD_IDS)
    assert len({i["worker"] for i in intervals}) == WORKERS
    owners = read_back_owners(bench_file, sim_dir)
    for board_id in BOARD_IDS:
        lines = owners[board_id]
        assert len(lines) == 2 * sum(1 for i in intervals if i["board"] == board_id)
        assert interleaved_users([(0.0, line) for line in lines]) == [], board_id
    assert len(list(ET.parse(pytester.path / "junit.xml").iter("testcase"))) == ITEMS
    claims = json.loads((pytester.path / "results.json").read_text())["claims"]
    assert sorted(b["id"] for c in claims for b in c["boards"].values()) == sorted(i["board"] for i in intervals)


def read_back_owners(bench_file, sim_dir) -> dict[str, list[str]]:
    """Each board's owners file, read from its flash by the board itself (the bench comes back with the same
    flash contents)."""
    from mpremote.transport_serial import SerialTransport
    bench = SimBench.from_config(load_bench_file(bench_file), sim_dir=sim_dir)
    bench.start(READ_BACK_TIMEOUT_S)
    try:
        owners = {}
        for spec in bench.specs:
            transport = SerialTransport(bench.locate_port(spec, READ_BACK_TIMEOUT_S))
            try:
                transport.enter_raw_repl(soft_reset=False)
                out, err = transport.exec_raw(f"print(open('/{OWNERS_FILE}').read(), end='')",
                                              timeout=READ_BACK_TIMEOUT_S)
                assert err == b"", err
                owners[spec.board_id] = out.decode().replace("\r\n", "\n").splitlines()
            finally:
                transport.close()
        return owners
    finally:
        bench.stop()
