"""jitter.run's bookkeeping under CPython, with the heap readings of MicroPython's `gc` module replayed: an
iteration during which the allocated size drops is one in which a collection ran."""
from __future__ import annotations

import sys
import types

import pytest

from tests.micropython_scripts.answer_line import parse_answer

ALLOCATION_STEP_BYTES = 64


def replayed_gc(collect_on_iterations: set[int]) -> types.ModuleType:
    """A `gc` module whose mem_alloc() grows by a step per reading and falls back to zero during the chosen
    iterations (each iteration reads it twice: before and after the timed body)."""
    module = types.ModuleType("gc")
    state = {"readings": 0, "allocated": 0}

    def mem_alloc():
        iteration, after_body = divmod(state["readings"], 2)
        state["readings"] += 1
        if after_body and iteration in collect_on_iterations:
            state["allocated"] = 0
        else:
            state["allocated"] += ALLOCATION_STEP_BYTES
        return state["allocated"]

    module.mem_alloc = mem_alloc
    module.collect = lambda: None
    return module


def test_iterations_with_a_collection_are_counted(lesson, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gc", replayed_gc({3, 10, 11}))
    lesson("jitter").run(20, churn=True)
    fields = {k: int(v) for k, v in parse_answer(capsys.readouterr().out.strip())[2].items()}
    assert (fields["n"], fields["gc_runs"], fields["churn"], fields["work_bytes"]) == (20, 3, 256, 256)
    assert 0 <= fields["gc_us"] <= 3 * (fields["max_us"] - fields["min_us"])
    assert fields["mean_us"] == (fields["total_us"] + 10) // 20
    assert fields["slowest_gc"] in (0, 1)


@pytest.mark.parametrize("collected_on, slowest_gc", [(4, 1), (2, 0)])
def test_the_slowest_iteration_is_said_to_be_a_collection_when_it_is(lesson, monkeypatch, capsys, collected_on,
                                                                      slowest_gc):
    monkeypatch.setitem(sys.modules, "gc", replayed_gc({collected_on}))
    jitter = lesson("jitter")
    body = {"iteration": -1}
    original = jitter.crc32_counting_bytes

    def timed_body(size_bytes, first=0):
        body["iteration"] = first
        return original(size_bytes, first)

    # every iteration takes 1000 us, except iteration 4: 6000 us
    monkeypatch.setattr(jitter, "crc32_counting_bytes", timed_body)
    monkeypatch.setattr(jitter, "ticks_diff", lambda end, start: 6000 if body["iteration"] == 4 else 1000)
    jitter.run(8, churn=True)
    fields = {k: int(v) for k, v in parse_answer(capsys.readouterr().out.strip())[2].items()}
    assert (fields["gc_runs"], fields["slowest_gc"], fields["max_us"], fields["min_us"]) == (1, slowest_gc, 6000, 1000)


def test_no_drop_means_no_collection(lesson, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gc", replayed_gc(set()))
    lesson("jitter").run(10)
    fields = parse_answer(capsys.readouterr().out.strip())[2]
    assert (fields["gc_runs"], fields["gc_us"], fields["churn"], fields["slowest_gc"]) == ("0", "0", "0", "0")


def test_zero_iterations_is_refused_like_the_firmware(lesson, capsys):
    lesson("jitter").run(0)
    assert capsys.readouterr().out.strip() == "ERR jitter: 0 out of range 1..=100000"
