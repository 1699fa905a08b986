"""A speed goal: a bound on a ratio, checked against what one run measured."""
from __future__ import annotations

from dataclasses import dataclass

AT_LEAST = ">="
AT_MOST = "<="


@dataclass(frozen=True)
class Goal:
    ratio: str             # what the ratio is, e.g. "mpremote time / ours"
    comparison: str        # AT_LEAST or AT_MOST
    bound: float
    unit: str = "x"

    def met_by(self, value: float) -> bool:
        return value >= self.bound if self.comparison == AT_LEAST else value <= self.bound

    def text(self) -> str:
        return f"{self.ratio} {self.comparison} {self.bound:g}{self.unit}"


def at_least(ratio: str, bound: float, unit: str = "x") -> Goal:
    return Goal(ratio, AT_LEAST, bound, unit)


def at_most(ratio: str, bound: float, unit: str = "x") -> Goal:
    return Goal(ratio, AT_MOST, bound, unit)
