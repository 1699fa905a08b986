"""A measured figure: value, unit, the clock that measured it, and the board it came from."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from hil.bench.bench_kind import known_clock_domains


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | str
    unit: str                 # "us", "s", "bytes", "bytes/s", "x" (a ratio), "" (a count or a state)
    clock_domain: str         # "host", "none" (not a time), or a clock an installed bench kind declares
    board: str | None = None

    def __post_init__(self):
        known = known_clock_domains()
        if self.clock_domain not in known:
            raise ValueError(f"metric {self.name!r}: unknown clock domain {self.clock_domain!r} "
                             f"(known: {', '.join(known)})")

    def to_json(self) -> dict:
        return asdict(self)
