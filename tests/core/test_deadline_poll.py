"""Deadline.poll, the wait loop of the framework's waits, on a fake clock (no real sleeping, no load sensitivity)."""
from __future__ import annotations

import pytest

from hil import deadline as deadline_module
from hil.deadline import Deadline


class FakeClock:
    def __init__(self):
        self.now_s = 100.0
        self.sleeps_s: list[float] = []

    def monotonic(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps_s.append(seconds)
        self.now_s += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(deadline_module.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(deadline_module.time, "sleep", fake.sleep)
    return fake


def test_returns_the_first_truthy_answer_without_sleeping_after_it(clock):
    answers = iter([None, "", "/dev/ttyACM0", "never asked"])
    assert Deadline(5.0).poll(lambda: next(answers), 0.5) == "/dev/ttyACM0"
    assert clock.sleeps_s == [0.5, 0.5]


def test_at_the_deadline_returns_the_last_answer_and_never_sleeps_past_it(clock):
    calls = []

    def attempt():
        calls.append(clock.now_s)
        return 0

    assert Deadline(1.2).poll(attempt, 0.5) == 0
    assert clock.sleeps_s == [0.5, 0.5, pytest.approx(0.2)]
    assert calls[-1] == pytest.approx(101.2)     # asked once more when the deadline is reached
    assert len(calls) == 4


def test_a_spent_deadline_still_asks_once(clock):
    calls = []
    assert Deadline(0.0).poll(lambda: calls.append(1), 0.5) is None
    assert calls == [1] and clock.sleeps_s == []


def test_an_error_of_the_attempt_ends_the_wait(clock):
    def attempt():
        raise LookupError("ambiguous")

    with pytest.raises(LookupError, match="ambiguous"):
        Deadline(5.0).poll(attempt, 0.5)
    assert clock.sleeps_s == []


def test_messages_show_a_deadline_to_10_ms_as_it_was_given():
    from hil.errors import StepTimeout, seconds_text
    assert [seconds_text(s) for s in (1.99999, 0.25, 1234.5, 0.004)] == ["2", "0.25", "1234.5", "0"]
    assert "not seen within 2 s" in str(StepTimeout("x", b"", None, 1.999996, "pico"))
