"""A measured figure: value, unit, the clock that measured it, and the board it came from."""
from __future__ import annotations

from dataclasses import asdict, dataclass

CLOCK_DOMAINS = ("host", "device", "rp2040js-virtual", "wasm-host", "none")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | str
    unit: str                 # "us", "s", "bytes", "bytes/s", "x" (a ratio), "" (a count or a state)
    clock_domain: str         # one of CLOCK_DOMAINS; "none" for figures that are not times
    board: str | None = None

    def __post_init__(self):
        if self.clock_domain not in CLOCK_DOMAINS:
            raise ValueError(f"metric {self.name!r}: unknown clock domain {self.clock_domain!r} "
                             f"(known: {', '.join(CLOCK_DOMAINS)})")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Metric":
        return cls(name=data["name"], value=data["value"], unit=data.get("unit", ""),
                   clock_domain=data.get("clock_domain", "none"), board=data.get("board"))
