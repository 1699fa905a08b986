"""Evaluating a scenario's assertions: comparisons of recorded metrics, as data.

Two times from different clock domains (the emulator's virtual clock vs the host's, say) are not comparable: such an
assertion's outcome is "not-comparable" with the reason, never passed or failed on meaningless numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from hil.results.metric import Metric
from hil.scenario.scenario_file import TIME_UNITS, Assertion

UNIT_SCALE_TO_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@dataclass
class Outcome:
    assertion: Assertion
    status: str           # "passed" | "failed" | "not-comparable"
    detail: str
    value: object = None  # the measured figure the bound was applied to (a ratio's quotient), for the results
    unit: str = ""

    def to_json(self) -> dict:
        """The assertion's record in the results: what was measured, the bound, and the lesson's figure."""
        raw = self.assertion.raw
        return {"line": self.assertion.line, "label": self.assertion.label, "status": self.status,
                "detail": self.detail, "subject": list(self.assertion.subject),
                "comparator": self.assertion.comparator, "bound": self.assertion.operand,
                "value": self.value, "unit": self.unit, "published": raw.get("published")}


class NotComparable(Exception):
    pass


def _value(name: str, metrics: dict[str, Metric], states: dict[str, str]) -> Metric:
    if "." in name:
        role = name.split(".", 1)[0]
        return Metric(name, states.get(role, "unknown"), "", "none", role)
    if name not in metrics:
        raise KeyError(name)
    return metrics[name]


def _comparable(a: Metric, b: Metric) -> tuple[float, float]:
    """Both values in one unit, or NotComparable."""
    if a.clock_domain != b.clock_domain and "none" not in (a.clock_domain, b.clock_domain):
        raise NotComparable(f"{a.name} is on the {a.clock_domain} clock, {b.name} on the {b.clock_domain} clock")
    if a.unit in TIME_UNITS and b.unit in TIME_UNITS:
        return float(a.value) * UNIT_SCALE_TO_S[a.unit], float(b.value) * UNIT_SCALE_TO_S[b.unit]
    if a.unit != b.unit and a.unit and b.unit:
        raise NotComparable(f"{a.name} is in {a.unit}, {b.name} in {b.unit}")
    return float(a.value), float(b.value)


def _describe(metric: Metric) -> str:
    return f"{metric.name}={metric.value}{(' ' + metric.unit) if metric.unit else ''} [{metric.clock_domain}]"


def evaluate(assertion: Assertion, metrics: dict[str, Metric], states: dict[str, str]) -> Outcome:
    try:
        subjects = [_value(name, metrics, states) for name in assertion.subject]
    except KeyError as missing:
        return Outcome(assertion, "failed", f"metric {missing.args[0]!r} was not recorded (an earlier step failed?)")
    try:
        if len(subjects) == 2:
            top, bottom = _comparable(subjects[0], subjects[1])
            if bottom == 0:
                return Outcome(assertion, "failed", f"ratio undefined: {_describe(subjects[1])}")
            value = top / bottom
            shown = f"{assertion.subject[0]} / {assertion.subject[1]} = {value:.3g} " \
                    f"({_describe(subjects[0])}, {_describe(subjects[1])})"
            subject = Metric("ratio", value, "x", "none")
        else:
            subject = subjects[0]
            shown = _describe(subject)
        operand = assertion.operand
        measured = (subject.value, subject.unit)
        comparator = assertion.comparator
        if comparator == "equals":
            ok = str(subject.value) == str(operand) if isinstance(operand, str) else subject.value == operand
            return Outcome(assertion, "passed" if ok else "failed", f"{shown}, expected {operand!r}", *measured)
        if comparator == "between":
            low, high = operand
            ok = low <= float(subject.value) <= high
            return Outcome(assertion, "passed" if ok else "failed", f"{shown}, expected between {low} and {high}",
                           *measured)
        if isinstance(operand, str):
            other = _value(operand, metrics, states)
            left, right = _comparable(subject, other) if len(subjects) == 1 else (float(subject.value), float(other.value))
            against = _describe(other)
        else:
            left, right = float(subject.value), float(operand)
            against = str(operand)
        ok = {"less_than": left < right, "greater_than": left > right,
              "at_least": left >= right, "at_most": left <= right}[comparator]
        return Outcome(assertion, "passed" if ok else "failed", f"{shown} {comparator.replace('_', ' ')} {against}",
                       *measured)
    except NotComparable as reason:
        return Outcome(assertion, "not-comparable", str(reason))
    except KeyError as missing:
        return Outcome(assertion, "failed", f"metric {missing.args[0]!r} was not recorded")
    except (TypeError, ValueError) as error:
        return Outcome(assertion, "failed", f"cannot compare: {error}")
