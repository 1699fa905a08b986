"""An inline SVG bar chart of one comparison: one horizontal bar per runtime or board, each labelled with its value,
unit and clock domain; a log axis when the figures differ by more than the comparison's log-scale ratio; the
assertion's bound (solid) and the lesson's published figure (dashed) as vertical lines, each labelled above the
bars."""
from __future__ import annotations

import math

from hil.results.comparison import LOG_SCALE_MIN_RATIO, Comparison
from hil.results.text_format import escape, format_figure, format_number, unit_label

WIDTH_PX = 620              # fits beside a claim's text in the report
LABEL_COLUMN_PX = 170       # runtime / board names, right-aligned against the bars
PLOT_WIDTH_PX = 240         # the longest bar
VALUE_GAP_PX = 8            # between a bar's end and its value label
BAR_HEIGHT_PX = 24
BAR_GAP_PX = 10
TOP_PX = 8
AXIS_HEIGHT_PX = 34
MIN_BAR_PX = 2              # a zero still shows as a sliver, so every bar is visible
LINEAR_TICKS = 4
THRESHOLD_ROW_PX = 15       # one row of label per threshold line, above the bars
THRESHOLD_COLOURS = {"bound": "#c53030", "published": "#1a202c"}
BAR_COLOURS = {"Rust": "#b7410e", "MicroPython": "#2b6cb0"}
OTHER_COLOURS = ("#2f855a", "#6b46c1", "#975a16", "#4a5568")


class _Axis:
    """Maps values to bar lengths, linear from zero or logarithmic between powers of ten."""

    def __init__(self, values: list[float], log_scale: bool):
        self.log_scale = log_scale
        if log_scale:
            self.low_exponent = math.floor(math.log10(min(values)))
            self.high_exponent = max(math.ceil(math.log10(max(values))), self.low_exponent + 1)
        else:
            self.high = _nice_ceiling(max(max(values), 0.0))

    def length_px(self, value: float) -> float:
        if self.log_scale:
            span = self.high_exponent - self.low_exponent
            fraction = (math.log10(value) - self.low_exponent) / span
        else:
            fraction = max(value, 0.0) / self.high if self.high > 0 else 0.0
        return max(MIN_BAR_PX, fraction * PLOT_WIDTH_PX)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log_scale:
            return [(self.length_px(10.0 ** e), format_number(10 ** e if e >= 0 else 10.0 ** e))
                    for e in range(self.low_exponent, self.high_exponent + 1)]
        step = self.high / LINEAR_TICKS
        return [(0.0 if i == 0 else self.length_px(step * i), format_number(step * i)) for i in range(LINEAR_TICKS + 1)]


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10 × a power of ten that is at least `value` (1 for zero)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-12):
            return step * power
    return 10.0 * power


def _colour(label: str, index: int) -> str:
    return BAR_COLOURS.get(label.split(" · ")[0], OTHER_COLOURS[index % len(OTHER_COLOURS)])


def _log_scale(values: list[float]) -> bool:
    return min(values) > 0 and max(values) / min(values) > LOG_SCALE_MIN_RATIO


def render_bar_chart(comparison: Comparison) -> str:
    bars = comparison.bars
    values = [bar.value for bar in bars] + [line.value for line in comparison.thresholds]
    axis = _Axis(values, _log_scale(values))
    plot_x = LABEL_COLUMN_PX
    top = TOP_PX + THRESHOLD_ROW_PX * len(comparison.thresholds)
    bars_height = len(bars) * (BAR_HEIGHT_PX + BAR_GAP_PX) - BAR_GAP_PX
    axis_y = top + bars_height + 4
    height = axis_y + AXIS_HEIGHT_PX
    scale = "log scale" if axis.log_scale else "linear scale"
    title = f"{comparison.title or comparison.quantity} ({unit_label(comparison.unit) or 'no unit'}, {scale})"
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" '
        f'viewBox="0 0 {WIDTH_PX} {height}" role="img" aria-label="{escape(title)}" '
        f'data-scale="{"log" if axis.log_scale else "linear"}">',
        f"<title>{escape(title)}</title>",
    ]
    for x, label in axis.ticks():
        parts.append(f'<line class="grid" x1="{plot_x + x:.1f}" y1="{top - 4}" x2="{plot_x + x:.1f}" '
                     f'y2="{axis_y}"/>')
        parts.append(f'<text class="tick" x="{plot_x + x:.1f}" y="{axis_y + 14}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    parts.append(f'<text class="axis-label" x="{plot_x}" y="{axis_y + 30}">'
                 f"{escape(unit_label(comparison.unit))} — {scale}</text>")
    for index, bar in enumerate(bars):
        y = top + index * (BAR_HEIGHT_PX + BAR_GAP_PX)
        length = axis.length_px(bar.value) if not (axis.log_scale and bar.value <= 0) else MIN_BAR_PX
        middle = y + BAR_HEIGHT_PX / 2 + 4
        figure = f"{format_figure(bar.value, bar.unit)} · {bar.clock_domain}"
        parts.append(f'<text class="bar-label" x="{plot_x - VALUE_GAP_PX}" y="{middle:.1f}" text-anchor="end">'
                     f"{escape(bar.label)}</text>")
        parts.append(f'<rect class="bar" x="{plot_x}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT_PX}" '
                     f'fill="{_colour(bar.label, index)}" data-metric="{escape(bar.metric)}" '
                     f'data-value="{bar.value!r}"><title>{escape(bar.metric)}: {escape(figure)}</title></rect>')
        parts.append(f'<text class="bar-value" x="{plot_x + length + VALUE_GAP_PX:.1f}" y="{middle:.1f}">'
                     f"{escape(figure)}</text>")
    parts.append(f'<line class="axis" x1="{plot_x}" y1="{top - 4}" x2="{plot_x}" y2="{axis_y}"/>')
    for row, line in enumerate(comparison.thresholds):
        x = plot_x + axis.length_px(line.value)
        label_y = TOP_PX + row * THRESHOLD_ROW_PX + 6
        anchor = "end" if x > plot_x + PLOT_WIDTH_PX * 0.6 else "start"
        colour = THRESHOLD_COLOURS.get(line.kind, THRESHOLD_COLOURS["bound"])
        dash = ' stroke-dasharray="5 3"' if line.kind == "published" else ""
        parts.append(f'<line class="threshold threshold-{escape(line.kind)}" x1="{x:.1f}" y1="{label_y + 3}" '
                     f'x2="{x:.1f}" y2="{axis_y}" stroke="{colour}" stroke-width="2"{dash} '
                     f'data-value="{line.value!r}"><title>{escape(line.label)}: '
                     f'{escape(format_figure(line.value, comparison.unit))}</title></line>')
        parts.append(f'<text class="threshold-label" x="{x + (-4 if anchor == "end" else 4):.1f}" y="{label_y}" '
                     f'text-anchor="{anchor}" fill="{colour}">{escape(line.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
