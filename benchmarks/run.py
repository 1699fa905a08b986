"""Runs the speed benchmarks, each printing its figures (with units and clocks), its goal, PASS/FAIL and the
measured ratio last on its line. Exits 1 if a goal is missed or a correctness check fails.

    .venv/bin/python -m benchmarks.run                    # all of them on a private simulated bench (~3 min)
    .venv/bin/python -m benchmarks.run --only round_trip  # one (repeatable)
    .venv/bin/python -m benchmarks.run --bench bench.yaml # on the physical bench a bench file names

The simulated bench is started in a temporary folder of its own (its own sim dir and board locks), so the run
never meets another run's boards; it is stopped and removed at the end. See docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
import traceback
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:   # also runnable as `python benchmarks/run.py`
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import (deploy_vs_mpremote, lesson_figures, redeploy_unchanged, round_trip,  # noqa: E402
                        sim_chip, transport_throughput)
from benchmarks.bench_session import BenchSession  # noqa: E402
from benchmarks.figure import NO_CLOCK, Figure  # noqa: E402
from benchmarks.goal import at_least  # noqa: E402
from benchmarks.outcome import FAIL, PASS, RECORDED, Outcome  # noqa: E402

PARALLEL_SPEEDUP_SCRIPT = PROJECT_ROOT / "benchmarks" / "parallel_speedup.py"
PARALLEL_SPEEDUP = "parallel_speedup"
PARALLEL_TIMEOUT_S = 1800.0
SPEEDUP_LINE = re.compile(r"speed-up: (?P<ratio>[\d.]+)x \(goal >= .*= (?P<goal>[\d.]+)x\)")

# In this order: the Rust board's first provisioning first; parallel_speedup (its own bench, ~1.5 min) last.
ALL_BENCHMARKS = ["redeploy_unchanged", "deploy_vs_mpremote", "transport_throughput", "round_trip",
                  "lesson_figures", "sim_chip", PARALLEL_SPEEDUP]


def parallel_speedup() -> list[Outcome]:
    """The parallel speed-up benchmark, run as its own script (it starts its own simulated bench)."""
    from hil.process import run_tool
    if not PARALLEL_SPEEDUP_SCRIPT.exists():
        return [Outcome(PARALLEL_SPEEDUP, "pytest -n N vs -n 1", problems=[f"{PARALLEL_SPEEDUP_SCRIPT} is missing"])]
    result = run_tool([sys.executable, str(PARALLEL_SPEEDUP_SCRIPT)], PARALLEL_TIMEOUT_S, cwd=PROJECT_ROOT,
                      check=False)
    lines = result.stdout.strip().splitlines()
    outcome = Outcome(PARALLEL_SPEEDUP, "pytest -n N vs -n 1 (its figures above)")
    outcome.figures = [Figure(f"{PARALLEL_SPEEDUP_SCRIPT.name} exit code", result.returncode, "", NO_CLOCK)]
    found = SPEEDUP_LINE.search(result.stdout)
    if result.returncode != 0 or not found:
        outcome.problems.append(f"exit {result.returncode}: {(result.stdout + result.stderr).strip()[-800:]}")
    else:
        outcome.goal = at_least("pytest -n 1 time / pytest -n N", float(found["goal"]))
        outcome.ratio = float(found["ratio"])
    print("\n".join(f"  | {line}" for line in lines))
    return [outcome]


def run_one(name: str, session: BenchSession | None, args: argparse.Namespace) -> list[Outcome]:
    if name == "deploy_vs_mpremote":
        return deploy_vs_mpremote.run(session, args.deploy_repeats)
    if name == "redeploy_unchanged":
        return redeploy_unchanged.run(session)
    if name == "transport_throughput":
        return transport_throughput.run(session, args.repeats)
    if name == "round_trip":
        return round_trip.run(session)
    if name == "lesson_figures":
        return lesson_figures.run(session, args.results)
    if name == "sim_chip":
        return sim_chip.run(session)
    if name == PARALLEL_SPEEDUP:
        return parallel_speedup()
    raise ValueError(name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=ALL_BENCHMARKS, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(ALL_BENCHMARKS)}")
    parser.add_argument("--bench", default="sim", help="'sim' (default: a private simulated bench) or a bench file")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each side in transport_throughput")
    parser.add_argument("--deploy-repeats", type=int, default=2,
                        help="copies of each tree by each tool in deploy_vs_mpremote (alternated; medians)")
    parser.add_argument("--xip-cache-model", action="store_true",
                        help="simulated bench: charge XIP cache misses as flash wait states (sim_chip's fidelity)")
    parser.add_argument("--results", type=Path, default=None,
                        help="lesson_figures: read this results JSON instead of running the scenarios")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.only or ALL_BENCHMARKS
    outcomes: list[Outcome] = []
    started = time.monotonic()
    print(f"benchmarks on bench {args.bench!r}: {', '.join(names)}", flush=True)
    needs_bench = [name for name in names if name != PARALLEL_SPEEDUP
                   and not (name == "lesson_figures" and args.results is not None)]
    with (BenchSession(args.bench, xip_cache_model=args.xip_cache_model) if needs_bench
          else contextlib.nullcontext()) as session:
        if session is not None:
            where = f"private sim dir {session.sim_dir}, link {session.bench.link}" if session.is_simulated \
                else f"bench file {args.bench}"
            print(f"bench started ({where})", flush=True)
        for name in names:
            print(f"\n== {name} ==", flush=True)
            bench_started = time.monotonic()
            try:
                found = run_one(name, session, args)
            except Exception as error:   # noqa: BLE001 - one broken benchmark must not hide the others' figures
                traceback.print_exc()
                found = [Outcome(name, "run", problems=[f"{type(error).__name__}: {error}"])]
            for outcome in found:
                print("\n".join(outcome.lines()), flush=True)
            print(f"  ({name} took {time.monotonic() - bench_started:.1f} s)", flush=True)
            outcomes += found
    counts = {verdict: sum(o.verdict == verdict for o in outcomes) for verdict in (PASS, FAIL, RECORDED)}
    print(f"\n{len(outcomes)} checks in {time.monotonic() - started:.0f} s: {counts[PASS]} PASS, "
          f"{counts[FAIL]} FAIL, {counts[RECORDED]} recorded")
    for outcome in outcomes:
        if outcome.failed:
            print(outcome.lines()[-1])
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    raise SystemExit(main())
