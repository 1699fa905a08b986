"""The board contract: what every board is (spec, bench, serial console, state) and the capabilities it offers.

Callers (the lease, the scenario steps, fixtures, the CLI) use these capabilities and never ask which class a
board is. A runtime's differences live in its board class: which console lines mean "the board stopped"
(`console_fail_on`), how it is provisioned, how it is reset, how it shows it is responsive.

States and the transitions a board may make (labgrid's strategies are the model):

    unknown -> ready | halted | broken          (after open / provision: it answered, it stopped, it failed)
    ready   -> unknown | halted | broken        (a reset or flash starts over; a panic; a fault)
    halted  -> unknown | broken                 (only a reset leaves halted; or it does not come back)
    broken  -> (nothing)                        (a board found broken stays broken for the run)
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.deadline import Deadline
from hil.deploy.firmware_image import FirmwareImage
from hil.errors import BoardBroken, BoardStateError, ProvisionError
from hil.transport import user_pattern
from hil.transport.serial_log import SerialLog
from hil.transport.serial_transport import SerialTransport

OPEN_TIMEOUT_S = 10.0
MIN_OPEN_S = 0.1                # an open that has no time left still gets one try
HALT_QUERY_MIN_S = 0.05         # a halt query with no time left still gets one short try
HALT_POLL_S = 0.02


class BoardState(str, Enum):
    UNKNOWN = "unknown"
    READY = "ready"
    HALTED = "halted"
    BROKEN = "broken"

    def __str__(self) -> str:
        return self.value


ALLOWED_TRANSITIONS: dict[BoardState, frozenset[BoardState]] = {
    BoardState.UNKNOWN: frozenset({BoardState.READY, BoardState.HALTED, BoardState.BROKEN}),
    BoardState.READY: frozenset({BoardState.UNKNOWN, BoardState.HALTED, BoardState.BROKEN}),
    BoardState.HALTED: frozenset({BoardState.UNKNOWN, BoardState.BROKEN}),
    BoardState.BROKEN: frozenset(),
}


@dataclass(frozen=True)
class ProvisionArtifacts:
    """What a board should run: a firmware image (Rust) and/or files to copy (MicroPython; (local, board path))."""

    firmware: FirmwareImage | None = None
    files: tuple[tuple[Path, str], ...] = ()
    restart_after_copy: bool = True   # MicroPython: soft reset once files changed (`hil deploy --no-soft-reset`)
    # MicroPython: hash every board file afresh (`hil deploy --verify`, deploy_verify); None: the bench's setting
    verify: bool | None = None
    copy_with: str = "deployer"       # MicroPython: "mpremote" copies every file with a plain `mpremote cp`


class ProvisionOutcome(Protocol):
    elapsed_s: float


# -- capabilities (small protocols; every Board has them) ----------------------------------------------------

@runtime_checkable
class Console(Protocol):
    def write(self, data: str | bytes, timeout_s: float) -> None: ...
    def expect(self, pattern: str | re.Pattern, timeout_s: float,
               fail_on: tuple[re.Pattern, ...] | None = None) -> re.Match: ...
    def read_exactly(self, size_bytes: int, timeout_s: float) -> bytes: ...


@runtime_checkable
class Provisionable(Protocol):
    def provision(self, artifacts: ProvisionArtifacts, timeout_s: float,
                  progress: Callable[[str], None] | None = None) -> ProvisionOutcome: ...


@runtime_checkable
class Resettable(Protocol):
    def reset(self, timeout_s: float) -> None: ...


@runtime_checkable
class HaltReporting(Protocol):
    def halt_report(self, timeout_s: float) -> dict | None: ...


@runtime_checkable
class Responsive(Protocol):
    def is_responsive(self, timeout_s: float) -> bool: ...


def console_pattern(text: str, fail_on: tuple[re.Pattern, ...]) -> str:
    """The one pattern a console wait runs for `text` and the `fail_on` lines (the scenario loader checks user
    patterns with it too). `text` comes first, so its groups keep their numbers and its backreferences their
    meaning; each fail line is a named group `hil_fail_<i>` (user groups may not start with "hil_"), with inline
    i and x flags of the user's (which the regex package applies to the whole pattern) switched off inside it."""
    if not fail_on:
        return text
    return "|".join([f"(?:{text})"] + [f"(?-ix:(?P<hil_fail_{i}>{p.pattern}))" for i, p in enumerate(fail_on)])


class Board(ABC):
    """Base of every board. A board marked broken fails every later use at once with the first reason."""

    runtime: Runtime
    # Console lines that end any wait with an error: the runtime's own "I stopped" line (Rust's PANIC).
    console_fail_on: tuple[re.Pattern, ...] = ()

    def __init__(self, spec: BoardSpec, bench: Bench, log: SerialLog | None = None):
        self.spec = spec
        self.bench = bench
        self.log = log or SerialLog()
        self.transport = SerialTransport(self._locate_port, board_id=spec.board_id, log=self.log)
        self._state = BoardState.UNKNOWN
        self.broken_reason: str | None = None
        # recorded with results: build id, tool versions, firmware version...; the bench's own facts first
        self.facts: dict[str, object] = dict(bench.board_facts(spec))

    # -- identity and state -------------------------------------------------------------------------------------

    @property
    def board_id(self) -> str:
        return self.spec.board_id

    @property
    def device_clock_domain(self) -> str:
        return self.bench.device_clock_domain(self.spec.runtime)

    @property
    def state(self) -> BoardState:
        return self._state

    def set_state(self, new: BoardState) -> None:
        """Move to `new`; a transition the board may not make is a BoardStateError (a bug, not a board fault)."""
        new = BoardState(new)
        if new != self._state and new not in ALLOWED_TRANSITIONS[self._state]:
            raise BoardStateError(self.board_id, self._state.value, new.value)
        self._state = new

    def mark_broken(self, reason: str) -> None:
        if self._state != BoardState.BROKEN:
            self.set_state(BoardState.BROKEN)
            self.broken_reason = reason
            self.log.note(f"board marked broken: {reason}")

    def ensure_usable(self) -> None:
        if self._state == BoardState.BROKEN:
            raise BoardBroken(self.board_id, self.broken_reason or "unknown reason")

    # -- the serial console -------------------------------------------------------------------------------------

    def _locate_port(self, timeout_s: float) -> str:
        return self.bench.locate_port(self.spec, timeout_s)

    def switch_log(self, path: str | Path | None) -> None:
        """Send this board's serial log to `path` (one file per test)."""
        self.log.switch(path)

    def open(self, timeout_s: float = OPEN_TIMEOUT_S) -> None:
        self.ensure_usable()
        if not self.transport.is_open:
            self.transport.open(max(timeout_s, MIN_OPEN_S))

    def close(self) -> None:
        self.transport.close()

    def write(self, data: str | bytes, timeout_s: float) -> None:
        deadline = Deadline(timeout_s)
        self.open(deadline.remaining_s)
        self.transport.write(data, timeout_s=max(deadline.remaining_s, MIN_OPEN_S))

    def expect(self, pattern: str | re.Pattern | user_pattern.Pattern, timeout_s: float,
               fail_on: tuple[re.Pattern, ...] | None = None) -> re.Match:
        """Wait for `pattern` in the board's output. A line matching one of `fail_on` (default: the runtime's
        `console_fail_on`) ends the wait at once through `_console_failed` (Rust: BoardHalted). A user's pattern
        (hil.transport.user_pattern) stays one, so matching it is bounded by the deadline."""
        fail_on = self.console_fail_on if fail_on is None else fail_on
        deadline = Deadline(timeout_s)
        self.open(deadline.remaining_s)
        if isinstance(pattern, user_pattern.Pattern):
            combined = user_pattern.compile_pattern(console_pattern(pattern.pattern, fail_on))
        else:
            text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
            flags = pattern.flags if isinstance(pattern, re.Pattern) else 0
            combined = re.compile(console_pattern(text, fail_on), flags | (re.MULTILINE if fail_on else 0))
        match = self.transport.expect(combined, max(deadline.remaining_s, 0.0))
        for i in range(len(fail_on)):
            if match.group(f"hil_fail_{i}") is not None:
                self._console_failed(match.group(f"hil_fail_{i}"))
        return match

    def _console_failed(self, line: str) -> None:
        """A `console_fail_on` line arrived. Runtimes that declare such lines raise their own error here."""
        raise BoardStateError(self.board_id, self._state.value, f"stopped: {line.strip()}")

    def read_exactly(self, size_bytes: int, timeout_s: float) -> bytes:
        deadline = Deadline(timeout_s)
        self.open(deadline.remaining_s)
        return self.transport.read_exactly(size_bytes, max(deadline.remaining_s, 0.0))

    # -- halts and responsiveness ----------------------------------------------------------------------------

    def halt_report(self, timeout_s: float) -> dict | None:
        """The bench's own view that the core stopped (a debugger, the emulator), if it can tell within
        timeout_s: reason, pc, message. None when it runs or the bench cannot see."""
        deadline = Deadline(timeout_s)
        # each query is bounded by what is left of the caller's step, not by the bench's own default
        return deadline.poll(lambda: self.bench.halt_info(self.spec, timeout_s=max(deadline.remaining_s,
                                                                                   HALT_QUERY_MIN_S)), HALT_POLL_S)

    def note_unresponsive(self, halt: dict | None) -> None:
        """The board stopped answering (a `check` found it so): it is halted until a reset."""
        if self._state != BoardState.BROKEN:
            self.set_state(BoardState.HALTED)

    @abstractmethod
    def is_responsive(self, timeout_s: float) -> bool:
        """Does the board answer its runtime's simplest request within timeout_s?"""

    # -- provisioning and reset ------------------------------------------------------------------------------

    @abstractmethod
    def provision(self, artifacts: ProvisionArtifacts, timeout_s: float,
                  progress: Callable[[str], None] | None = None) -> ProvisionOutcome:
        """Bring the board to `artifacts`, changing only what differs. A failure marks the board broken."""

    @abstractmethod
    def reset(self, timeout_s: float) -> None:
        """Restart what the board runs and wait until it answers (leaves `halted`)."""

    def _require(self, what: str, value):
        if not value:
            raise ProvisionError(self.board_id, f"a {self.spec.runtime} board is provisioned with {what}, "
                                                f"and none was given")
        return value

    def cannot_recover_reason(self) -> str:
        """'' if the bench can bring this board back after its firmware stops (panic); otherwise why not."""
        return ""

    def describe(self) -> dict:
        return {"id": self.board_id, "runtime": self.spec.runtime.value, "serial_number": self.spec.serial_number,
                "port": self.transport.port, "state": self._state.value, **self.facts}
