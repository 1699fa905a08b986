"""Verdicts: each claim ends as holds, fails, not comparable on this bench (with the reason) or error (the bench
broke), with the figure that decided it; the results JSON keeps the verdict words and the lesson's sentence."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.results.metric import Metric
from hil.results.verdict import (ERROR, FAILS, HOLDS, NOT_COMPARABLE, deciding_text, verdict_of, verdict_reason)
from hil.scenario.assertions import evaluate
from hil.scenario.scenario_file import load_scenario
from tests.results.sample_documents import assertion

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def claim(status, reason=None, assertions=()):
    return {"id": "s.yaml::s", "status": status, "reason": reason, "assertions": list(assertions), "metrics": []}


SORT_HOLDS = assertion("bubble sort", ["mpy_sort_us", "rust_sort_us"], "at_least", 20, 98.3, "x", published=107)
SORT_FAILS = assertion("bubble sort", ["mpy_sort_us", "rust_sort_us"], "at_least", 20, 3.28, "x", "failed",
                       published=107)


@pytest.mark.parametrize("status, reason, assertions, verdict", [
    ("passed", None, [SORT_HOLDS], HOLDS),
    ("failed", "ClaimFailed: claim not upheld", [SORT_FAILS], FAILS),
    # a step that did not do what the claim says (no panic, no traceback) is the claim failing ...
    ("failed", "StepFailed: s.yaml:12: step 3: the board still answers; expected it halted", [], FAILS),
    ("failed", "StepFailed: s.yaml:9: step 1: StepTimeout: no match for '^2$' within 2 s", [], FAILS),
    # ... a board that went away, a tool that is missing, is the bench breaking
    ("failed", "StepFailed: s.yaml:9: step 1: PortVanished: /dev/ttyACM1 went away", [], ERROR),
    ("failed", "s.yaml::s: ToolMissing: probe-rs: not found on PATH", [], ERROR),
    ("error", "ProvisionError: flashing failed", [], ERROR),
    ("interrupted", "the run was interrupted while this test was running", [], ERROR),
    ("skipped", "the simulated board's heap grows on demand", [], NOT_COMPARABLE),
    ("not-comparable", "not comparable on this bench: a is on the host clock, b on the device clock", [],
     NOT_COMPARABLE),
    ("something new", None, [], ERROR),
])
def test_pytest_outcomes_map_to_verdicts(status, reason, assertions, verdict):
    assert verdict_of(claim(status, reason, assertions)) == verdict


def test_a_claim_not_judged_says_why_without_repeating_the_verdict():
    record = claim("not-comparable", "not comparable on this bench: a is on the host clock, b on the device clock")
    assert verdict_reason(record) == "a is on the host clock, b on the device clock"
    assert verdict_reason(claim("skipped", "no _thread")) == "no _thread"
    assert verdict_reason(claim("error", "ProvisionError: flashing failed")) == "ProvisionError: flashing failed"
    assert verdict_reason(claim("passed", None, [SORT_HOLDS])) is None


def test_the_deciding_figure_is_the_published_one_when_it_holds_and_the_failed_one_when_it_fails():
    crc = assertion("crc32", ["mpy_crc32_us", "rust_crc32_us"], "at_least", 10, 33.3, "x")
    assert deciding_text(claim("passed", None, [crc, SORT_HOLDS])) == \
        "bubble sort: 98.3× (needs ≥ 20×; lesson: 107×)"
    crc_failed = {**crc, "status": "failed", "value": 4.0}
    assert deciding_text(claim("failed", "ClaimFailed", [SORT_HOLDS, crc_failed])) == "crc32: 4× (needs ≥ 10×)"
    assert deciding_text(claim("failed", "StepFailed: s.yaml:3: step 1: expected ZeroDivisionError")) == \
        "StepFailed: s.yaml:3: step 1: expected ZeroDivisionError"


SCENARIO = """\
scenario: sort
claim: Rust sorts about 107 times faster.
lesson: Rust is much faster than MicroPython.
boards:
  rust: {runtime: rust, firmware: lesson}
  mpy: {runtime: micropython, provision: false}
steps:
  - {on: rust, command: bench sort 1000, expect: 'us=(?P<us>\\d+)', record: {rust_sort_us: us}}
  - {on: mpy, exec: "kernels.sort(1000)", expect: 'us=(?P<us>\\d+)', record: {mpy_sort_us: us}}
assert:
  - {name: 'bubble sort, MicroPython time ÷ Rust time', ratio: [mpy_sort_us, rust_sort_us], at_least: 20,
     published: 107}
"""


@pytest.mark.parametrize("rust_sort_us, verdict, shown", [
    (176000, HOLDS, "bubble sort, MicroPython time ÷ Rust time: 107.2× (needs ≥ 20×; lesson: 107×)"),
    # the Rust sort made 30 times slower: the claim is false and the figure says by how much
    (176000 * 30, FAILS, "bubble sort, MicroPython time ÷ Rust time: 3.57× (needs ≥ 20×; lesson: 107×)"),
])
def test_an_assertions_record_carries_the_measured_value_the_bound_and_the_published_figure(
        tmp_path, rust_sort_us, verdict, shown):
    path = tmp_path / "sort.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path, tmp_path)
    assert scenario.lesson == "Rust is much faster than MicroPython."
    metrics = {"rust_sort_us": Metric("rust_sort_us", rust_sort_us, "us", "device", "rust-1"),
               "mpy_sort_us": Metric("mpy_sort_us", 18874000, "us", "device", "mpy-1")}
    outcome = evaluate(scenario.assertions[0], metrics, {})
    record = json.loads(json.dumps(outcome.to_json()))   # as the results file keeps it
    assert record["subject"] == ["mpy_sort_us", "rust_sort_us"]
    assert record["comparator"] == "at_least" and record["bound"] == 20 and record["published"] == 107
    assert record["value"] == pytest.approx(18874000 / rust_sort_us) and record["unit"] == "x"
    status = "passed" if verdict == HOLDS else "failed"
    assert record["status"] == status
    results_claim = claim(status, None if status == "passed" else "ClaimFailed", [record])
    assert verdict_of(results_claim) == verdict
    assert deciding_text(results_claim) == shown


def test_different_clocks_leave_no_figure_and_no_verdict_but_not_comparable(tmp_path):
    path = tmp_path / "sort.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path, tmp_path)
    metrics = {"rust_sort_us": Metric("rust_sort_us", 176000, "us", "rp2040js-virtual", "rust-1"),
               "mpy_sort_us": Metric("mpy_sort_us", 18874000, "us", "host", "mpy-1")}
    record = evaluate(scenario.assertions[0], metrics, {}).to_json()
    assert record["status"] == "not-comparable" and record["value"] is None


def test_every_lesson_scenario_carries_the_lessons_sentence():
    paths = sorted((PROJECT_ROOT / "scenarios").glob("*.yaml"))
    assert len(paths) >= 11
    scenarios = {path.name: load_scenario(path, PROJECT_ROOT) for path in paths}
    missing = [name for name, scenario in scenarios.items() if not scenario.lesson]
    assert missing == [], "a lesson scenario needs 'lesson:', the lesson's own sentence it tests"
    # The rp2 port has no GIL: the one scenario that measures that says the Pico contradicts the lesson.
    contradicting = {name for name, scenario in scenarios.items() if scenario.contradicts_lesson}
    assert "dual_core_micropython.yaml" in contradicting
    assert "GIL" in scenarios["dual_core_micropython.yaml"].lesson
    sort = scenarios["compute_throughput.yaml"].assertions[0]
    assert sort.subject == ("mpy_sort_us", "rust_sort_us") and sort.raw["published"] == 107


def test_the_results_json_keeps_verdicts_lesson_and_assertion_records(pytester):
    pytester.makepyfile("""
        import json
        import pytest
        from hil.results.pytest_results import record_assertion

        def record(request, status, value):
            request.node.user_properties.append(("hil.lesson", "Rust is much faster."))
            request.node.user_properties.append(("hil.contradicts_lesson", "no GIL on the Pico"))
            record_assertion(request.node, {"label": "sort", "status": status, "subject": ["a", "b"],
                                            "comparator": "at_least", "bound": 20, "value": value, "unit": "x",
                                            "published": 107})

        def test_holds(request):
            record(request, "passed", 98.3)

        def test_fails(request):
            record(request, "failed", 3.3)
            raise AssertionError("claim not upheld: sort 3.3 at least 20")

        def test_not_comparable():
            pytest.skip("not comparable on this bench: different clocks")

        @pytest.fixture
        def broken():
            raise RuntimeError("the bench broke")

        def test_error(broken):
            pass
    """)
    pytester.runpytest("--hil-results=r.json").assert_outcomes(passed=1, failed=1, skipped=1, errors=1)
    claims = {c["name"]: c for c in json.loads((pytester.path / "r.json").read_text())["claims"]}
    assert {name: c["verdict"] for name, c in claims.items()} == {
        "test_holds": "holds", "test_fails": "fails", "test_not_comparable": "not comparable on this bench",
        "test_error": "error"}
    assert claims["test_holds"]["lesson"] == "Rust is much faster."
    assert claims["test_holds"]["contradicts_lesson"] == "no GIL on the Pico"
    assert claims["test_fails"]["assertions"][0]["value"] == 3.3
    assert claims["test_not_comparable"]["reason"] == "not comparable on this bench: different clocks"
