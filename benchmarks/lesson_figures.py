"""The lesson's Rust vs MicroPython figures (compute kernels and serial throughput), side by side with the clock
that measured each. No goal: recorded, as the lesson scenarios measured them in this run (or in a results file
given with --results).

The scenarios run through pytest on this session's bench (same simulated supervisor, private board locks), into a
results file in the session's scratch folder (format: docs/results.md).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.bench_session import PROJECT_ROOT, BenchSession
from benchmarks.figure import NO_CLOCK, Figure
from benchmarks.outcome import Outcome

NAME = "lesson_figures"
SCENARIOS = ["scenarios/compute_throughput.yaml", "scenarios/serial_throughput.yaml"]
PYTEST_TIMEOUT_S = 900.0
REASON_CHARS = 160            # of a claim's reason shown (the results file has all of it)


def run_scenarios(session: BenchSession) -> tuple[Path, str]:
    """Runs the lesson scenarios; returns the results file and a one-line summary of pytest's outcome."""
    from hil.process import run_tool
    results = session.scratch("lesson") / "results.json"
    session.release_ports()
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "hil", *SCENARIOS,
            f"--hil-results={results}"]
    outcome = run_tool(argv, PYTEST_TIMEOUT_S, env=session.pytest_env(), cwd=PROJECT_ROOT, check=False)
    summary = (outcome.stdout.strip().splitlines() or ["(no output)"])[-1]
    return results, f"pytest exit {outcome.returncode}: {summary}"


def figures_from(results_path: Path, source: str) -> list[Outcome]:
    from hil.results.comparison import comparisons_of, is_number, split_runtime
    try:
        document = json.loads(Path(results_path).read_text())
    except (OSError, ValueError) as error:
        return [Outcome(NAME, "results", problems=[f"cannot read {results_path}: {error} ({source})"])]
    outcomes = []
    for claim in document.get("claims", []):
        for comparison in comparisons_of(claim):
            outcome = Outcome(NAME, f"{claim.get('name')}: {comparison.quantity}",
                              ratio_name="larger / smaller" if comparison.comparable
                              else f"not comparable: clocks {' vs '.join(comparison.clock_domains)}")
            for bar in comparison.bars:
                outcome.figures.append(Figure(f"{bar.label} ({bar.metric})", bar.value, bar.unit, bar.clock_domain))
            outcome.ratio = comparison.ratio if comparison.comparable else None
            outcomes.append(outcome)
        paired = {bar.metric for comparison in comparisons_of(claim) for bar in comparison.bars}
        alone = [m for m in claim.get("metrics") or [] if isinstance(m, dict) and is_number(m.get("value"))
                 and m.get("name") not in paired and split_runtime(str(m.get("name")))[0] is not None]
        if alone:   # one runtime only (e.g. a direction only one firmware serves): recorded all the same
            outcomes.append(Outcome(NAME, f"{claim.get('name')}: figures of one runtime only", [
                Figure(f"{split_runtime(m['name'])[0]} · {m.get('board')} ({m['name']})", m["value"],
                       m.get("unit", ""), m.get("clock_domain", NO_CLOCK)) for m in alone]))
    if not outcomes:
        outcomes.append(Outcome(NAME, "results", problems=[f"no Rust vs MicroPython figures in {results_path} "
                                                           f"({source})"]))
    claims = document.get("claims", [])
    outcomes[0].figures[:0] = [Figure(f"source: {source}", len(claims), "claims", NO_CLOCK)] + [
        Figure(f"claim {claim.get('name')}: {claim.get('status')}"
               + (f" ({str(claim.get('reason'))[:REASON_CHARS]})" if claim.get("reason") else ""),
               claim.get("duration_s") or 0, "s") for claim in claims]
    return outcomes


def run(session: BenchSession | None, results_path: Path | None) -> list[Outcome]:
    if results_path is not None:
        return figures_from(results_path, f"given results file {results_path}")
    assert session is not None
    path, summary = run_scenarios(session)
    return figures_from(path, summary)
