"""The emulated chip's benchmark turns board figures into verdicts correctly (no bench needed)."""
from __future__ import annotations

import pytest

from benchmarks import sim_chip
from benchmarks.outcome import FAIL, PASS, RECORDED


def test_fidelity_is_judged_either_way_and_the_ratio_is_set_beside_the_published_one():
    measured = {("rust", "sort"): 176_000 * 2, ("rust", "fib"): 2_050, ("micropython", "sort"): 18_874_000 // 2,
                ("micropython", "fib"): int(38_300 * 1.4)}
    outcomes = {o.title: o for o in sim_chip._fidelity(measured)}
    rust_sort = outcomes["fidelity, rust bubble sort of 1000 reversed ints"]
    assert (rust_sort.verdict, round(rust_sort.ratio, 3)) == (FAIL, 2.0)          # twice as slow as a Pico
    mpy_sort = outcomes["fidelity, micropython bubble sort of 1000 reversed ints"]
    assert (mpy_sort.verdict, round(mpy_sort.ratio, 3)) == (FAIL, 2.0)            # twice as fast
    # the lesson's Fibonacci is taken modulo 10^6 (finite, checked): set beside the published figure, not judged
    fib_title = "float Fibonacci mod 10^6, 800 terms (published: plain float Fibonacci)"
    assert outcomes[f"fidelity, rust {fib_title}"].verdict == RECORDED
    assert round(outcomes[f"fidelity, micropython {fib_title}"].ratio, 3) == 1.4
    pair = outcomes["Rust:MicroPython, bubble sort"]
    assert pair.verdict == RECORDED
    assert round(pair.figures[0].value, 1) == round(18_874_000 // 2 / (176_000 * 2), 1)
    assert round(pair.ratio, 4) == round(18_874_000 // 2 / (176_000 * 2) / 107, 4)


def test_emulation_speed_is_virtual_seconds_per_host_second():
    assert sim_chip._emulation_speed(2_000_000, [4.0]).ratio == 0.5
    assert sim_chip._emulation_speed(2_000_000, [4.0]).verdict == PASS
    assert sim_chip._emulation_speed(1_000_000, [4.0]).verdict == FAIL
    # judged on the median run, not the luckiest or the unluckiest
    assert sim_chip._emulation_speed(2_000_000, [2.0, 5.0, 4.0]).ratio == 0.5


def test_a_missing_us_figure_is_an_error_not_a_zero():
    with pytest.raises(RuntimeError, match="no us= figure"):
        sim_chip._us_of("Traceback: MemoryError")


def _compute_round(host_ms: float, **virtual) -> dict:
    figures = {"sort_us": 800_000, "sorted": True, "virtual_ns": 883_000_000, "cycles": 109_000_000,
               "state": "93e995cf"}
    return {"host_ms": host_ms, "cpu_ms": host_ms, **figures, **virtual}


def test_executor_speedup_is_the_ratio_of_speeds_when_both_computed_the_same():
    measured = {"reference": [_compute_round(4000.0), _compute_round(3200.0), _compute_round(3600.0)],
                "fast": [_compute_round(1600.0), _compute_round(1500.0), _compute_round(2000.0)]}
    outcome = sim_chip._executor_outcome(measured)
    assert outcome.verdict == RECORDED and not outcome.problems
    assert round(outcome.ratio, 3) == round((800 / 1600) / (800 / 3600), 3)   # medians: 1600 ms vs 3600 ms


@pytest.mark.parametrize("difference", [{"sort_us": 800_001}, {"virtual_ns": 883_000_008}, {"cycles": 109_000_001},
                                        {"state": "00000000"}])
def test_executor_speedup_fails_when_the_fast_executor_computed_anything_else(difference):
    measured = {"reference": [_compute_round(4000.0)], "fast": [_compute_round(1600.0, **difference)]}
    outcome = sim_chip._executor_outcome(measured)
    assert outcome.verdict == FAIL
    assert "fast executor, round 1" in outcome.problems[0]


def test_executor_speedup_fails_when_the_board_did_not_sort():
    measured = {"reference": [_compute_round(4000.0, sorted=False)], "fast": [_compute_round(1600.0, sorted=False)]}
    assert sim_chip._executor_outcome(measured).verdict == FAIL
