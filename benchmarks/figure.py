"""One measured figure: a value with its unit and the clock that measured it."""
from __future__ import annotations

from dataclasses import dataclass

# Clock domains as the results use them (docs/results.md); `none` for figures that are not times.
HOST_CLOCK = "host"
NO_CLOCK = "none"


@dataclass(frozen=True)
class Figure:
    label: str
    value: float
    unit: str              # "s", "ms", "us", "bytes", "bytes/s", "MB/s", "" for a count
    clock: str = HOST_CLOCK

    def text(self) -> str:
        clock = "" if self.clock == NO_CLOCK else f" [{self.clock}]"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} = {format_number(self.value)}{unit}{clock}"


def format_number(value: float) -> str:
    """Enough digits to compare figures by eye: 3 significant digits for small values, none lost for large."""
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:#.3g}"   # keeps trailing zeros: a ratio of 1.00 reads as measured, not as 1
