"""What one check of a benchmark measured: its figures, the goal, the measured ratio, and the verdict."""
from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.figure import Figure, format_number
from benchmarks.goal import Goal

PASS = "PASS"
FAIL = "FAIL"
RECORDED = "RECORDED"   # no goal: the figures are kept, not judged


@dataclass
class Outcome:
    benchmark: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    goal: Goal | None = None
    ratio: float | None = None
    ratio_name: str = ""    # what the ratio is, when there is no goal to say it
    problems: list[str] = field(default_factory=list)   # a correctness check that failed (hashes, writes, ...)

    @property
    def verdict(self) -> str:
        if self.problems:
            return FAIL
        if self.goal is None:
            return RECORDED
        return PASS if self.ratio is not None and self.goal.met_by(self.ratio) else FAIL

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL

    def lines(self) -> list[str]:
        """The figures, one per line, then the verdict line with the ratio last."""
        out = [f"  {figure.text()}" for figure in self.figures]
        out += [f"  problem: {problem}" for problem in self.problems]
        unit = self.goal.unit if self.goal else "x"
        ratio = "n/a" if self.ratio is None else f"{format_number(self.ratio)}{unit}"
        if self.goal is None:
            what = f"{self.ratio_name}, no goal" if self.ratio_name else "no goal"
            line = f"{self.benchmark}: {self.title}: {what}  {self.verdict}"
            out.append(line if self.ratio is None else f"{line}  ratio {ratio}")
            return out
        out.append(f"{self.benchmark}: {self.title}: goal {self.goal.text()}  {self.verdict}  ratio {ratio}")
        return out
