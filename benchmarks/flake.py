"""How flaky is the lesson suite as a CI user meets it: runs `pytest -m hil` N times with each worker count and
prints, per scenario, how often it failed or errored and why (from each run's results JSON).

    .venv/bin/python -m benchmarks.flake --runs 10 --workers 1,4      # the figure docs/benchmarks.md reports
    .venv/bin/python -m benchmarks.flake --runs 2 --workers 4 -- -k panic   # after --: more pytest arguments

Each run is a fresh pytest process on a simulated bench of its own (a private HIL_SIM_DIR), with its results
JSON and its output kept in the --out folder. A run that exits non-zero with no failed claim in its results
(a crash, a collection error, a timeout) counts as a failure of the run itself, named `(run)`. Exits 1 when
anything failed, 0 when every claim passed or was skipped in every run. Runs one after another: the machine's
cores are the bench's.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:   # also runnable as `python benchmarks/flake.py`
    sys.path.insert(0, str(PROJECT_ROOT))

from hil.errors import HilError  # noqa: E402
from hil.process import run_tool  # noqa: E402

RUN_TIMEOUT_S = 1800.0
BAD_STATUSES = ("failed", "error", "interrupted")
RUN_ITSELF = "(run)"
REASON_CHARS = 160


@dataclass
class Tally:
    """One scenario's outcomes under one worker count."""
    runs: int = 0
    bad: Counter = field(default_factory=Counter)        # status -> count
    reasons: Counter = field(default_factory=Counter)    # "status: reason" -> count


def parse_workers(text: str) -> list[int]:
    try:
        workers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers: not a comma-separated list of counts: {text!r}") from None
    if not workers or any(count < 1 for count in workers):
        raise argparse.ArgumentTypeError(f"--workers: counts must be 1 or more: {text!r}")
    return workers


def short(reason: str | None) -> str:
    line = " ".join((reason or "no reason recorded").split())
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 3] + "..."


def run_suite(workers: int, index: int, out_dir: Path, pytest_args: list[str], timeout_s: float
              ) -> tuple[int | None, Path, Path]:
    """One `pytest -m hil -n workers` run; returns (exit code or None on timeout, results JSON, output log)."""
    stem = f"n{workers}-run{index:03d}"
    results, log = out_dir / f"{stem}.json", out_dir / f"{stem}.log"
    # short and private: the bench's control sockets live there (Unix socket paths are limited)
    sim_dir = Path(tempfile.mkdtemp(prefix="hil-flake-"))
    env = dict(os.environ, HIL_SIM_DIR=str(sim_dir))
    argv = [sys.executable, "-m", "pytest", "-m", "hil", "scenarios", "-n", str(workers), "-p", "no:cacheprovider",
            "-q", f"--hil-results={results}", *pytest_args]
    with open(log, "w", encoding="utf-8") as log_file:
        log_file.write(" ".join(argv) + "\n")
        try:
            result = run_tool(argv, timeout_s, env=env, cwd=PROJECT_ROOT, check=False,
                              on_output_line=lambda _stream, line: log_file.write(line + "\n"))
            code: int | None = result.returncode
        except HilError as error:       # ToolTimeout: the process group was killed
            log_file.write(f"\n{error}\n")
            code = None
        finally:
            shutil.rmtree(sim_dir, ignore_errors=True)
    return code, results, log


def tally_run(tallies: dict[str, dict[int, Tally]], workers: int, code: int | None, results: Path,
              log: Path) -> int:
    """Adds one run's claims to the tallies; returns how many bad outcomes it had."""
    try:
        document = json.loads(results.read_text(encoding="utf-8"))
        claims = document.get("claims", [])
    except (OSError, ValueError) as error:
        claims, missing = [], f"no results JSON ({error.__class__.__name__})"
    else:
        missing = None
    bad = 0
    for claim in claims:
        tally = tallies[claim.get("id", "?")][workers]
        tally.runs += 1
        status = claim.get("status")
        if status in BAD_STATUSES:
            bad += 1
            tally.bad[status] += 1
            tally.reasons[f"{status}: {short(claim.get('reason'))}"] += 1
    run_tally = tallies[RUN_ITSELF][workers]
    run_tally.runs += 1
    if code != 0 and bad == 0:
        why = "timed out" if code is None else f"pytest exit code {code} with no failed claim"
        run_tally.bad["failed"] += 1
        run_tally.reasons[f"{why}{'; ' + missing if missing else ''} (see {log})"] += 1
        bad += 1
    return bad


def report(tallies: dict[str, dict[int, Tally]], worker_counts: list[int], runs: int) -> list[str]:
    header = f"{'scenario':64} " + " ".join(f"{'-n ' + str(w) + ' fail/err':>16}" for w in worker_counts)
    lines = [header]
    for claim_id in sorted(tallies, key=lambda name: (name == RUN_ITSELF, name)):
        cells = []
        for workers in worker_counts:
            tally = tallies[claim_id].get(workers, Tally())
            failed = tally.bad["failed"] + tally.bad["interrupted"]
            cell = f"{failed}/{tally.bad['error']} of {tally.runs}"
            cells.append(f"{cell:>16}")
        lines.append(f"{claim_id:64} " + " ".join(cells))
        for workers in worker_counts:
            for reason, count in tallies[claim_id].get(workers, Tally()).reasons.most_common():
                lines.append(f"    -n {workers}, {count}x {reason}")
    total = {w: sum(sum(t[w].bad.values()) for t in tallies.values() if w in t) for w in worker_counts}
    lines.append("total: " + ", ".join(f"{total[w]} failures or errors in {runs} runs of -n {w}"
                                        for w in worker_counts))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per worker count (default 10)")
    parser.add_argument("--workers", type=parse_workers, default=[1, 4], metavar="N[,N...]",
                        help="pytest-xdist worker counts, each run --runs times (default 1,4)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "flake",
                        help="folder for each run's results JSON and output (default reports/flake)")
    parser.add_argument("--run-timeout", type=float, default=RUN_TIMEOUT_S, metavar="SECONDS", dest="run_timeout_s",
                        help=f"give up on one run after this long (default {RUN_TIMEOUT_S:g})")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments for every run")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    args.out.mkdir(parents=True, exist_ok=True)
    tallies: dict[str, dict[int, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for workers in args.workers:
        for index in range(1, args.runs + 1):
            start = time.monotonic()
            code, results, log = run_suite(workers, index, args.out, args.pytest_args, args.run_timeout_s)
            bad = tally_run(tallies, workers, code, results, log)
            print(f"-n {workers} run {index}/{args.runs}: exit {code}, {bad} failures or errors, "
                  f"{time.monotonic() - start:.0f} s host", flush=True)
    lines = report(tallies, args.workers, args.runs)
    print("\n".join(lines))
    total_bad = sum(sum(t.bad.values()) for by_workers in tallies.values() for t in by_workers.values())
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
