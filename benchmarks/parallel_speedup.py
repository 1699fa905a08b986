"""How much faster `pytest -n N` runs than `pytest -n 1` on the simulated bench with N boards.

Both are run here, alternately (--repeats times each; medians compared), on one simulated bench started once
(its start-up is outside the timings), with the same items: each takes a MicroPython board from the pool and
does what lesson scenarios do on a board (a compute kernel, REPL round trips, output over the link). Prints both
wall times, the ratio, and the goal: at least 0.8 x the usable cores (N workers cannot beat the cores that run
them, and the simulated boards run on the same cores), with the load average and the CPU actually free before
and after, since other work on the machine takes cores away from both runs.

    .venv/bin/python benchmarks/parallel_speedup.py [--boards 4] [--items 40] [--repeats 3]

This is a measurement, not a test: it reports PASS or FAIL against the goal and exits 0 either way (it stops
with an error only if a pytest run itself failed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.figure import NO_CLOCK, Figure  # noqa: E402
from benchmarks.goal import at_least  # noqa: E402
from benchmarks.outcome import Outcome  # noqa: E402
from hil.bench.bench_file import load_bench_file  # noqa: E402
from hil.sim.sim_bench import SimBench  # noqa: E402

NAME = "parallel_speedup"
CALIBRATION_S = 1.0
CALIBRATION_SLACK_S = 10.0
BUSY_LOOP = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass\n" \
            "print(time.process_time())"
GOAL_PER_CORE = 0.8
BENCH_START_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 1800.0

WORKLOAD = '''
import pytest

SORT_300_REVERSED = """
d = list(range(300, 0, -1))
for i in range(len(d)):
    for j in range(len(d) - 1 - i):
        if d[j] > d[j + 1]:
            d[j], d[j + 1] = d[j + 1], d[j]
print(d[0], d[-1])
"""
ROUND_TRIPS = 20
OUTPUT_CHARS = 4000

@pytest.mark.hil
@pytest.mark.parametrize("index", range({items}))
def test_board_work(index, hil_board_pool):
    board = hil_board_pool.acquire("micropython", timeout_s=600)
    try:
        assert board.exec(SORT_300_REVERSED, 60).stdout.split() == ["1", "300"]
        for n in range(ROUND_TRIPS):
            assert board.eval(f"{{n}} + 1") == str(n + 1)
        assert len(board.exec(f"print('x' * {{OUTPUT_CHARS}})", 60).stdout.strip()) == OUTPUT_CHARS
    finally:
        hil_board_pool.release(board)
'''


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def free_cores(duration_s: float = CALIBRATION_S) -> float:
    """How many cores' worth of CPU a busy loop per core gets right now (other work on the machine takes the rest)."""
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP, str(duration_s)], stdout=subprocess.PIPE, text=True)
                for _ in range(usable_cores())]
    cpu_s = sum(float(spinner.communicate(timeout=duration_s + CALIBRATION_SLACK_S)[0]) for spinner in spinners)
    return cpu_s / duration_s


def run_pytest(workdir: Path, bench_file: Path, workers: int, env: dict) -> float:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "hil", "-n", str(workers),
            f"--hil-bench={bench_file}", "test_workload.py"]
    started = time.monotonic()
    completed = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    elapsed_s = time.monotonic() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-2000:])
        raise SystemExit(f"pytest -n {workers} failed (exit {completed.returncode})")
    return elapsed_s


def measure(boards: int, items: int, repeats: int) -> Outcome:
    """Start a simulated bench of `boards` MicroPython boards, run the items with -n 1 and -n boards, alternately,
    `repeats` times each, and compare the median wall times."""
    load_before = os.getloadavg()[0]
    free_before = free_cores()
    with tempfile.TemporaryDirectory(prefix="hil-speedup-") as tmp:
        workdir = Path(tmp)
        bench_file = workdir / "bench.yaml"
        bench_file.write_text("kind: sim\nbench: speedup\nboards:\n" + "".join(
            f"  - {{id: pico-{n}, runtime: micropython}}\n" for n in range(boards)))
        (workdir / "test_workload.py").write_text(WORKLOAD.format(items=items))
        env = {**os.environ, "HIL_SIM_DIR": str(workdir / "sim"), "HIL_LOCK_DIR": str(workdir / "locks"),
               "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
        bench = SimBench.from_config(load_bench_file(bench_file), sim_dir=env["HIL_SIM_DIR"])
        bench.start(BENCH_START_TIMEOUT_S)          # shared by every run's workers; stopped at the end
        serial_runs_s, parallel_runs_s = [], []
        try:
            for _ in range(repeats):      # alternated, so a change in the machine's load hits both alike
                serial_runs_s.append(run_pytest(workdir, bench_file, 1, env))
                parallel_runs_s.append(run_pytest(workdir, bench_file, boards, env))
        finally:
            bench.stop()
    serial_s, parallel_s = statistics.median(serial_runs_s), statistics.median(parallel_runs_s)
    cores = min(usable_cores(), boards)
    outcome = Outcome(NAME, f"{boards} simulated MicroPython boards, {items} items, {usable_cores()} usable cores",
                      goal=at_least(f"(-n 1 wall) / (-n {boards} wall)", GOAL_PER_CORE * cores))
    outcome.figures += [
        Figure("pytest -n 1 wall time (median)", round(serial_s, 2), "s"),
        Figure(f"pytest -n {boards} wall time (median)", round(parallel_s, 2), "s"),
        *[Figure(f"pytest -n 1 run {n + 1}", round(t, 2), "s") for n, t in enumerate(serial_runs_s)],
        *[Figure(f"pytest -n {boards} run {n + 1}", round(t, 2), "s") for n, t in enumerate(parallel_runs_s)],
        Figure("1-minute load average before (other work on the machine skews the figures)", load_before, "",
               NO_CLOCK),
        Figure("1-minute load average after", os.getloadavg()[0], "", NO_CLOCK),
        Figure("cores' worth of CPU free before (a busy loop per core, 1 s)", round(free_before, 2), "", NO_CLOCK),
        Figure("cores' worth of CPU free after", round(free_cores(), 2), "", NO_CLOCK),
    ]
    outcome.ratio = serial_s / parallel_s
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=4, help="simulated MicroPython boards = workers (default 4)")
    # Enough items that starting N pytest workers (a second or so of CPU each) is not most of the -n N run.
    parser.add_argument("--items", type=int, default=100, help="test items per run (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternated; medians compared")
    args = parser.parse_args()
    outcome = measure(args.boards, args.items, args.repeats)
    print("\n".join(outcome.lines()))
    cores = round(outcome.goal.bound / GOAL_PER_CORE)
    print(f"speed-up: {outcome.ratio:.2f}x (goal >= {GOAL_PER_CORE} x {cores} cores = {outcome.goal.bound:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
