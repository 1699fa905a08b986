"""benchmarks.flake's counting: per scenario and worker count, failures and errors with their reasons, and a run
that failed without any failed claim counted against the run itself."""
from __future__ import annotations

import argparse
import json
from collections import defaultdict

import pytest

from benchmarks.flake import RUN_ITSELF, Tally, parse_workers, report, tally_run


def results_file(tmp_path, name, claims):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "pico-hil-results/1", "claims": claims}))
    return path


def claim(claim_id, status, reason=None):
    return {"id": claim_id, "status": status, "reason": reason}


@pytest.fixture
def tallies():
    return defaultdict(lambda: defaultdict(Tally))


def test_failures_and_errors_are_counted_per_scenario_and_worker_count_with_their_reasons(tmp_path, tallies):
    log = tmp_path / "run.log"
    first = results_file(tmp_path, "1.json", [claim("a.yaml::x", "passed"), claim("b.yaml::y", "failed", "too slow")])
    second = results_file(tmp_path, "2.json", [claim("a.yaml::x", "error", "ProvisionError: board\nreports 1"),
                                               claim("b.yaml::y", "skipped", "no board")])
    assert tally_run(tallies, 4, 1, first, log) == 1
    assert tally_run(tallies, 4, 1, second, log) == 1
    assert tally_run(tallies, 1, 0, results_file(tmp_path, "3.json", [claim("a.yaml::x", "passed")]), log) == 0
    assert tallies["a.yaml::x"][4].bad == {"error": 1} and tallies["a.yaml::x"][4].runs == 2
    assert tallies["b.yaml::y"][4].reasons == {"failed: too slow": 1}
    assert tallies[RUN_ITSELF][4].bad == {}                 # each non-zero exit is explained by a claim
    text = "\n".join(report(tallies, [1, 4], 2))
    assert "error: ProvisionError: board reports 1" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith(("a.yaml", "b.yaml"))}
    assert lines["a.yaml::x"].split()[1:] == ["0/0", "of", "1", "0/1", "of", "2"]
    assert text.splitlines()[-1] == "total: 0 failures or errors in 2 runs of -n 1, 2 failures or errors in 2 runs of -n 4"


def test_a_run_that_fails_with_no_failed_claim_counts_against_the_run(tmp_path, tallies):
    log = tmp_path / "run.log"
    assert tally_run(tallies, 1, 2, tmp_path / "missing.json", log) == 1
    assert tally_run(tallies, 1, None, results_file(tmp_path, "1.json", [claim("a.yaml::x", "passed")]), log) == 1
    reasons = list(tallies[RUN_ITSELF][1].reasons)
    assert reasons[0].startswith("pytest exit code 2 with no failed claim; no results JSON")
    assert reasons[1].startswith("timed out")


def test_worker_counts_must_be_positive_integers():
    assert parse_workers("1,4") == [1, 4]
    for bad in ("0", "one", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_workers(bad)
