"""Borrowing boards for one test (a fixture, a scenario, a CLI command): one set of rules for every borrower.

    with BoardLease(pool, {"rust": Runtime.RUST}, log_dir, recorder, acquire_timeout_s=...) as lease:
        lease.provision("rust", ProvisionArtifacts(firmware=image), timeout_s)
        lease.boards["rust"].command("ping", 2.0)

On entry: every board of the lease is taken at once or none (BoardPool.acquire_all, within the deadline), and its
serial log goes to `log_dir/<board id>.log`. `provision` records how long it took (host clock). On exit, whatever
happened: each board's facts and the tail of its serial log are recorded; a board is marked broken in the shared
pool only on evidence about that board (an error that names it as gone or wrong, or the board's own verdict);
a halted board is reset so the next borrower finds it usable (or marked broken if it does not come back); then
the logs are switched off and the boards released.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Mapping, Protocol

from hil.bench.board_spec import Runtime
from hil.board.board import Board, BoardState, ProvisionArtifacts, ProvisionOutcome
from hil.board.board_pool import DEFAULT_ACQUIRE_TIMEOUT_S, BoardPool
from hil.errors import BoardNotFound, HilError, PortVanished, StepFailed, WrongRuntime
from hil.results.metric import Metric

RESET_TIMEOUT_S = 30.0
LOG_TAIL_CHARS = 3000
# Errors that say a board is gone or is not what the bench says: later tests of the run fail fast on it.
BREAKING_ERRORS = (PortVanished, BoardNotFound, WrongRuntime)


class Recorder(Protocol):
    """Where a lease and the code using its boards record what they saw (a pytest item, the CLI's output)."""

    def metric(self, metric: Metric) -> None: ...
    def board(self, board_facts: dict) -> None: ...
    def evidence(self, kind: str, text: str) -> None: ...


class BoardLease:
    def __init__(self, pool: BoardPool, roles: Mapping[str, Runtime], log_dir: Path | None, recorder: Recorder,
                 acquire_timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S, reset_timeout_s: float = RESET_TIMEOUT_S):
        self.pool = pool
        self.roles = dict(roles)
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.recorder = recorder
        self.acquire_timeout_s = acquire_timeout_s
        self.reset_timeout_s = reset_timeout_s
        self.boards: dict[str, Board] = {}

    def __enter__(self) -> "BoardLease":
        names = sorted(self.roles)
        boards = self.pool.acquire_all([Runtime(self.roles[name]) for name in names], self.acquire_timeout_s)
        for name, board in zip(names, boards):
            self.boards[name] = board
            if self.log_dir is not None:
                board.switch_log(self.log_dir / f"{board.board_id}.log")
        return self

    def provision(self, role: str, artifacts: ProvisionArtifacts, timeout_s: float,
                  progress: Callable[[str], None] | None = None) -> ProvisionOutcome:
        """Provision the role's board (only what differs) and record `<role>_provision_s` on the host clock."""
        board = self.boards[role]
        start_s = time.monotonic()
        outcome = board.provision(artifacts, timeout_s, progress)
        self.recorder.metric(Metric(f"{role}_provision_s", round(time.monotonic() - start_s, 4), "s", "host",
                                    board.board_id))
        return outcome

    def __exit__(self, exc_type, error, traceback) -> None:
        try:
            if isinstance(error, HilError):
                self._mark_broken_on_evidence(error)
            for role, board in self.boards.items():
                self.recorder.board({"role": role, **board.describe()})
                self._record_log_tail(board)
            for board in self.boards.values():
                self._leave_usable(board)
        finally:
            for board in self.boards.values():
                board.switch_log(None)
                self.pool.release(board)

    def _mark_broken_on_evidence(self, error: HilError) -> None:
        """A breaking error (also when a step wrapped it) marks the board it names, or, naming none, every board
        of the lease. A board that gave itself up (its provisioning failed) is marked in the pool too."""
        cause = error.__cause__ if isinstance(error, StepFailed) else error
        if isinstance(cause, BREAKING_ERRORS):
            named = [b for b in self.boards.values() if b.board_id == getattr(cause, "board_id", None)]
            for board in named or self.boards.values():
                self.pool.mark_broken(board, str(cause))

    def _leave_usable(self, board: Board) -> None:
        if board.state == BoardState.BROKEN:
            if not self.pool.broken_reason(board.board_id):
                self.pool.mark_broken(board, board.broken_reason or "broken")
            return
        if board.state != BoardState.HALTED:
            return
        try:
            board.reset(self.reset_timeout_s)
        except HilError as error:
            self.pool.mark_broken(board, f"did not come back from a reset after halting: {error}")

    def _record_log_tail(self, board: Board) -> None:
        path = board.log.path
        if path and path.exists():
            text = path.read_text(encoding="ascii", errors="replace")
            self.recorder.evidence(f"serial-{board.board_id}", f"{path}\n{text[-LOG_TAIL_CHARS:]}")
