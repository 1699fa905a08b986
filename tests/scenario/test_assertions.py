"""Assertions are data: comparisons of recorded metrics, refusing to compare different clocks."""
from __future__ import annotations

from hil.results.metric import Metric
from hil.scenario.assertions import evaluate
from hil.scenario.scenario_file import Assertion


def assertion(subject, comparator, operand) -> Assertion:
    return Assertion(line=7, raw={}, subject=tuple(subject), comparator=comparator, operand=operand)


METRICS = {
    "rust_sort_us": Metric("rust_sort_us", 176_000, "us", "device", "r"),
    "mpy_sort_us": Metric("mpy_sort_us", 18_874_000, "us", "device", "m"),
    "mpy_sort_host_us": Metric("mpy_sort_host_us", 900, "us", "host", "m"),
    "rust_deploy_s": Metric("rust_deploy_s", 4.8, "s", "host", "r"),
    "mpy_deploy_s": Metric("mpy_deploy_s", 0.4, "s", "host", "m"),
    "mpy_copy_ms": Metric("mpy_copy_ms", 400, "ms", "host", "m"),
}


def test_ratio_with_a_factor_passes_and_fails_on_the_numbers():
    passed = evaluate(assertion(["mpy_sort_us", "rust_sort_us"], "at_least", 100), METRICS, {})
    failed = evaluate(assertion(["mpy_sort_us", "rust_sort_us"], "at_least", 200), METRICS, {})
    assert passed.status == "passed" and "107" in passed.detail
    assert failed.status == "failed"


def test_metric_less_than_another_metric_of_the_same_clock():
    assert evaluate(assertion(["mpy_deploy_s"], "less_than", "rust_deploy_s"), METRICS, {}).status == "passed"
    assert evaluate(assertion(["rust_deploy_s"], "less_than", "mpy_deploy_s"), METRICS, {}).status == "failed"


def test_times_in_different_units_are_converted_before_comparing():
    outcome = evaluate(assertion(["mpy_copy_ms"], "less_than", "rust_deploy_s"), METRICS, {})
    assert outcome.status == "passed"


def test_different_clock_domains_are_not_comparable():
    outcome = evaluate(assertion(["mpy_sort_host_us", "rust_sort_us"], "at_least", 10), METRICS, {})
    assert outcome.status == "not-comparable"
    assert "host" in outcome.detail and "device" in outcome.detail


def test_board_state_equals():
    states = {"rust": "halted"}
    assert evaluate(assertion(["rust.state"], "equals", "halted"), METRICS, states).status == "passed"
    assert evaluate(assertion(["rust.state"], "equals", "ready"), METRICS, states).status == "failed"


def test_bounds():
    assert evaluate(assertion(["mpy_deploy_s"], "between", [0.1, 1.0]), METRICS, {}).status == "passed"
    assert evaluate(assertion(["mpy_deploy_s"], "at_most", 0.3), METRICS, {}).status == "failed"


def test_a_metric_that_was_never_recorded_fails_with_its_name():
    outcome = evaluate(assertion(["nope_us"], "at_most", 1), METRICS, {})
    assert outcome.status == "failed" and "'nope_us'" in outcome.detail
