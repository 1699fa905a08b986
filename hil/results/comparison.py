"""Which metrics of a claim compare Rust with MicroPython (or one board with another), for the report's charts.

Two metrics are compared when they measure the same thing: the same name once a runtime prefix is removed
(`rust_crc32_us` and `mpy_crc32_us` are both `crc32_us`), or the same name recorded on different boards, and the
same unit. Only numbers are charted; a comparison whose figures come from different clocks is marked not
comparable (its ratio would mean nothing).

`claim_charts` adds what decides the claim: the bound of each assertion drawn on the chart of its figures (for a
ratio, at the denominator's value times the bound), the published figure beside it, and a chart of the figures of
a within-runtime assertion (single vs dual core, slowest vs mean iteration, stdout vs stdin). Provisioning times
are run details, never part of a claim's story.
"""
from __future__ import annotations

from dataclasses import dataclass

from hil.bench.board_spec import Runtime
from hil.results.text_format import format_figure, format_number

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
class Threshold:
    value: float               # where the line is drawn, in the bars' unit
    label: str                 # "needs ≥ 20× Rust", "lesson: 107× Rust"
    kind: str                  # "bound" (the assertion's limit) or "published" (the lesson's figure)


@dataclass(frozen=True)
class Comparison:
    quantity: str              # the shared base name, e.g. "crc32_us"
    unit: str
    bars: tuple[Bar, ...]
    thresholds: tuple[Threshold, ...] = ()
    title: str = ""            # the assertion it charts, when it is not a Rust vs MicroPython pair

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


# Metrics that time provisioning the boards: run details, not evidence for a claim.
PROVISION_SUFFIX = "_provision_s"
THRESHOLD_SIGNS = {"less_than": "<", "greater_than": ">", "at_least": "≥", "at_most": "≤"}


def is_story_metric(metric: dict) -> bool:
    return not str(metric.get("name", "")).endswith(PROVISION_SUFFIX)


def _metric_bar(claim: dict, metric: dict) -> Bar:
    name = str(metric.get("name"))
    runtime, quantity = split_runtime(name)
    runtime = runtime or _board_runtime(claim, metric.get("board"))
    for suffix in ("_us", "_ms", "_ns", "_s", "_bytes", "_bps", "_x", "_hz"):
        quantity = quantity.removesuffix(suffix)
    label = " · ".join(part for part in (runtime, quantity.replace("_", " ")) if part)
    return Bar(label, name, float(metric["value"]), str(metric.get("unit", "")),
               str(metric.get("clock_domain", "none")), metric.get("board"))


def _thresholds(record: dict, by_metric: dict[str, Bar]) -> tuple[Threshold, ...]:
    """Lines for one assertion on the chart of its figures: where the first figure has to be."""
    comparator, bound = record.get("comparator"), record.get("bound")
    subject = record.get("subject") or []
    published = record.get("published")
    if len(subject) == 2 and subject[1] in by_metric:
        base = by_metric[subject[1]]            # a ratio: first / second, so the limit scales the second figure
        scale = base.value
        top = by_metric.get(subject[0])
        same_runtime = top is not None and top.label.split(" · ")[0] == base.label.split(" · ")[0]
        # "20× Rust" across runtimes; "1.5× loop min" within one
        of = base.label.split(" · ")[-1] if same_runtime else base.label.split(" · ")[0]

        def shown(figure):
            return f"{format_number(figure)}× {of}"
    elif len(subject) == 1 and subject[0] in by_metric:
        scale = 1.0

        def shown(figure):
            return format_figure(figure, by_metric[subject[0]].unit)
    else:
        return ()
    lines = []
    if comparator == "between" and isinstance(bound, list) and len(bound) == 2 and all(map(is_number, bound)):
        lines += [Threshold(scale * bound[0], f"needs ≥ {shown(bound[0])}", "bound"),
                  Threshold(scale * bound[1], f"needs ≤ {shown(bound[1])}", "bound")]
    elif comparator in THRESHOLD_SIGNS and is_number(bound):
        lines.append(Threshold(scale * bound, f"needs {THRESHOLD_SIGNS[comparator]} {shown(bound)}", "bound"))
    if is_number(published):
        lines.append(Threshold(scale * published, f"lesson: {shown(published)}", "published"))
    return tuple(line for line in lines if line.value > 0)


def claim_charts(claim: dict) -> list[Comparison]:
    """The charts of a claim's story: Rust vs MicroPython pairs (with the bounds of the assertions on them), and a
    chart per assertion within one runtime (its figures and their family: loop min / mean / max). A pair all of
    whose figures a within-runtime chart already shows is left out. No provisioning times."""
    story = {**claim, "metrics": [m for m in claim.get("metrics") or [] if isinstance(m, dict) and is_story_metric(m)]}
    numeric = {str(m.get("name")): m for m in story["metrics"] if is_number(m.get("value"))}
    by_metric = {name: _metric_bar(claim, metric) for name, metric in numeric.items()}
    records = [r for r in claim.get("assertions") or [] if isinstance(r, dict)]
    pairs = comparisons_of(story)
    paired_records, own_charts, in_own = set(), [], set()
    for position, record in enumerate(records):
        subject = [name for name in record.get("subject") or [] if name in numeric]
        if subject and any(set(subject) <= {bar.metric for bar in pair.bars} for pair in pairs):
            paired_records.add(position)
            continue
        bound = record.get("bound")
        members = subject + ([bound] if isinstance(bound, str) and bound in numeric else [])
        if not members or len({by_metric[name].unit for name in members}) != 1:
            continue
        stem = _common_stem(members)
        if stem:
            members += [name for name in numeric if name.startswith(stem) and name not in members
                        and by_metric[name].unit == by_metric[members[0]].unit]
        own_charts.append(Comparison(stem.rstrip("_") or members[0], by_metric[members[0]].unit,
                                     tuple(sorted((by_metric[name] for name in members), key=lambda bar: bar.value)),
                                     _thresholds(record, by_metric),
                                     str(record.get("label") or "")))
        in_own |= set(members)
    charts = []
    for pair in pairs:
        names = {bar.metric for bar in pair.bars}
        if names <= in_own:
            continue
        judged_by = [position for position in sorted(paired_records)
                     if set(records[position].get("subject") or []) <= names]
        lines = ()
        if pair.comparable:   # a bound scaled by a figure from another clock would mean nothing
            for position in judged_by:
                lines += _thresholds(records[position], {bar.metric: bar for bar in pair.bars})
        charts.append((judged_by[0] if judged_by else len(records), Comparison(pair.quantity, pair.unit, pair.bars,
                                                                              lines)))
    # The headline assertion's chart first, as the scenario lists its checks.
    return [chart for _, chart in sorted(charts, key=lambda item: item[0])] + own_charts


def _common_stem(names: list[str]) -> str:
    """The shared start of the names up to an underscore, when it is more than a runtime prefix ('rust_loop_')."""
    if len(names) < 2:
        return ""
    first = names[0]
    length = 0
    while all(len(n) > length and n[length] == first[length] for n in names):
        length += 1
    stem = first[:first.rfind("_", 0, length) + 1] if "_" in first[:length] else ""
    return "" if stem in {prefix for prefix, _ in RUNTIME_PREFIXES} else stem
