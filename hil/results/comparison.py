"""Which metrics of a claim compare Rust with MicroPython (or one board with another), for the report's charts.

Two metrics are compared when they measure the same thing: the same name once a runtime prefix is removed
(`rust_crc32_us` and `mpy_crc32_us` are both `crc32_us`), or the same name recorded on different boards, and the
same unit. Only numbers are charted; a comparison whose figures come from different clocks is marked not
comparable (its ratio would mean nothing).
"""
from __future__ import annotations

from dataclasses import dataclass

from hil.bench.board_spec import Runtime

# Metric-name prefixes that name the runtime a figure belongs to, and how the report labels them.
RUNTIME_PREFIXES = (("rust_", "Rust"), ("micropython_", "MicroPython"), ("mpy_", "MicroPython"))
RUNTIME_LABELS = {Runtime.RUST: "Rust", Runtime.MICROPYTHON: "MicroPython"}
RUNTIME_ORDER = ("Rust", "MicroPython")
# Above this ratio between the largest and smallest bar a linear axis hides the small bar: use a log axis.
LOG_SCALE_MIN_RATIO = 20.0


@dataclass(frozen=True)
class Bar:
    label: str                 # "Rust", "MicroPython · mpy-1", or a board id
    metric: str                # the metric's full name
    value: float
    unit: str
    clock_domain: str
    board: str | None


@dataclass(frozen=True)
class Comparison:
    quantity: str              # the shared base name, e.g. "crc32_us"
    unit: str
    bars: tuple[Bar, ...]

    @property
    def clock_domains(self) -> tuple[str, ...]:
        return tuple(sorted({bar.clock_domain for bar in self.bars}))

    @property
    def comparable(self) -> bool:
        return len(self.clock_domains) == 1

    @property
    def ratio(self) -> float | None:
        """Largest over smallest value; None when a value is zero or negative (no meaningful ratio)."""
        values = [bar.value for bar in self.bars]
        if min(values) <= 0:
            return None
        return max(values) / min(values)

    @property
    def log_scale(self) -> bool:
        ratio = self.ratio
        return ratio is not None and ratio > LOG_SCALE_MIN_RATIO


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


def split_runtime(name: str) -> tuple[str | None, str]:
    """('Rust', 'crc32_us') for 'rust_crc32_us'; (None, name) when the name carries no runtime."""
    for prefix, label in RUNTIME_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return label, name[len(prefix):]
    return None, name


def _board_runtime(claim: dict, board: str | None) -> str | None:
    facts = (claim.get("boards") or {}).get(board) if board else None
    runtime = facts.get("runtime") if isinstance(facts, dict) else None
    return RUNTIME_LABELS.get(runtime, runtime) if isinstance(runtime, str) else None


def _order(bar: Bar) -> tuple:
    runtime = bar.label.split(" · ")[0]
    rank = RUNTIME_ORDER.index(runtime) if runtime in RUNTIME_ORDER else len(RUNTIME_ORDER)
    return (rank, bar.label)


def comparisons_of(claim: dict) -> list[Comparison]:
    """Every group of two or more comparable figures in the claim, in the order their quantities first appear."""
    groups: dict[tuple[str, str], list[tuple[str | None, dict]]] = {}
    for metric in claim.get("metrics") or []:
        if not isinstance(metric, dict) or not is_number(metric.get("value")):
            continue
        name = str(metric.get("name", ""))
        runtime, quantity = split_runtime(name)
        if runtime is None:
            runtime = _board_runtime(claim, metric.get("board"))
        groups.setdefault((quantity, str(metric.get("unit", ""))), []).append((runtime, metric))
    comparisons = []
    for (quantity, unit), members in groups.items():
        bars = {}
        for runtime, metric in members:
            board = metric.get("board")
            parts = [part for part in (runtime, board) if part]
            label = " · ".join(parts) if parts else str(metric.get("name"))
            bars.setdefault(label, Bar(label, str(metric.get("name")), float(metric["value"]), unit,
                                       str(metric.get("clock_domain", "none")), board))
        if len(bars) >= 2:
            comparisons.append(Comparison(quantity, unit, tuple(sorted(bars.values(), key=_order))))
    return comparisons
