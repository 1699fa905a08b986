"""What every board has: a spec, the bench it is on, a serial transport, and a state that remembers failure."""
from __future__ import annotations

from pathlib import Path

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec
from hil.errors import BoardBroken
from hil.transport.serial_log import SerialLog
from hil.transport.serial_transport import SerialTransport

OPEN_TIMEOUT_S = 10.0


class Board:
    """Base of RustBoard and MicroPythonBoard.

    A board that failed in a way that makes later use pointless is marked broken; every later use fails fast
    with the first reason instead of a cascade of confusing secondary failures.
    """

    runtime: str = ""

    def __init__(self, spec: BoardSpec, bench: Bench, log: SerialLog | None = None):
        self.spec = spec
        self.bench = bench
        self.log = log or SerialLog()
        self.transport = SerialTransport(self._locate_port, board_id=spec.board_id, log=self.log)
        self.state = "unknown"           # unknown | ready | halted | broken
        self.broken_reason: str | None = None
        # recorded with results: build id, tool versions, firmware version...; the bench's own facts first
        self.facts: dict[str, str] = dict(bench.board_facts(spec))

    @property
    def board_id(self) -> str:
        return self.spec.board_id

    @property
    def device_clock_domain(self) -> str:
        return self.bench.device_clock_domain(self.spec.runtime)

    def _locate_port(self, timeout_s: float) -> str:
        return self.bench.locate_port(self.spec, timeout_s)

    def switch_log(self, path: str | Path | None) -> None:
        """Send this board's serial log to `path` (one file per test)."""
        self.log.switch(path)

    def open(self, timeout_s: float = OPEN_TIMEOUT_S) -> None:
        self.ensure_usable()
        if not self.transport.is_open:
            self.transport.open(timeout_s)

    def close(self) -> None:
        self.transport.close()

    def mark_broken(self, reason: str) -> None:
        self.state = "broken"
        self.broken_reason = reason
        self.log.note(f"board marked broken: {reason}")

    def ensure_usable(self) -> None:
        if self.state == "broken":
            raise BoardBroken(self.board_id, self.broken_reason or "unknown reason")

    def describe(self) -> dict:
        return {"id": self.board_id, "runtime": self.spec.runtime, "serial_number": self.spec.serial_number,
                "port": self.transport.port, "state": self.state, **self.facts}
