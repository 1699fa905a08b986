"""Hands boards to tests, one holder at a time, across pytest-xdist workers.

Each board has an OS file lock (released by the OS if the holder crashes). A board found broken is remembered in
a `.broken` file next to its lock, so every worker fails fast on it with the first reason.
"""
from __future__ import annotations

import contextlib
import hashlib
import random
import re
from pathlib import Path
from typing import Callable

import filelock

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec
from hil.board.board import Board
from hil.deadline import Deadline
from hil.errors import BoardBroken, BoardBusy, BoardNotFound

LOCK_POLL_S = 0.05
DEFAULT_ACQUIRE_TIMEOUT_S = 600.0   # a worker may wait for another's long scenario to finish
RETRY_JITTER = (0.5, 1.5)           # factors of LOCK_POLL_S: workers that back off together don't retry in step


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class BoardPool:
    def __init__(self, bench: Bench, lock_dir: Path, make_board: Callable[[BoardSpec], Board],
                 only_board_ids: list[str] | None = None, broken_dir: Path | None = None):
        self.bench = bench
        self.lock_dir = Path(lock_dir)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        # Where `.broken` marks go: the run's own folder, so a mark never outlives the run that made it.
        self.broken_dir = Path(broken_dir) if broken_dir is not None else self.lock_dir
        self._make_board = make_board
        self._boards: dict[str, Board] = {}
        self._locks: dict[str, filelock.BaseFileLock] = {}
        self.only_board_ids = only_board_ids or None
        if self.only_board_ids:
            for board_id in self.only_board_ids:
                bench.spec(board_id)  # an unknown id is an error now, not a silent "no boards"

    def _lock_path(self, board_id: str) -> Path:
        # Named by the device's identity only: two bench files may give one Pico two ids.
        identity = self.bench.board_identity(self.bench.spec(board_id))
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
        return self.lock_dir / f"board.{digest}.lock"

    @contextlib.contextmanager
    def holding(self, board_id: str, timeout_s: float):
        """Hold board `board_id`'s lock (the one test runs take) for a command such as `hil deploy`; BoardBusy if
        another holder keeps it past timeout_s."""
        lock = filelock.FileLock(str(self._lock_path(board_id)))
        try:
            lock.acquire(timeout=timeout_s, poll_interval=LOCK_POLL_S)
        except filelock.Timeout:
            raise BoardBusy(f"board {board_id!r}", timeout_s, "another run or command holds it") from None
        try:
            yield self.bench.spec(board_id)
        finally:
            lock.release()

    def _broken_path(self, board_id: str) -> Path:
        return self.broken_dir / f"{_safe(self.bench.name)}.{_safe(board_id)}.broken"

    def candidates(self, runtime: str) -> list[BoardSpec]:
        specs = self.bench.specs_for(runtime)
        if self.only_board_ids:
            specs = [s for s in specs if s.board_id in self.only_board_ids]
        return specs

    def board(self, spec: BoardSpec) -> Board:
        if spec.board_id not in self._boards:
            self._boards[spec.board_id] = self._make_board(spec)
        return self._boards[spec.board_id]

    def broken_reason(self, board_id: str) -> str | None:
        path = self._broken_path(board_id)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def mark_broken(self, board: Board, reason: str) -> None:
        board.mark_broken(reason)
        self.broken_dir.mkdir(parents=True, exist_ok=True)
        self._broken_path(board.board_id).write_text(reason, encoding="utf-8")

    def acquire(self, runtime: str, timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S) -> Board:
        """Lock and return a board of `runtime`; waits for one to become free, up to timeout_s."""
        return self.acquire_all([runtime], timeout_s)[0]

    def acquire_all(self, runtimes: list[str], timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S) -> list[Board]:
        """Lock one distinct board per entry of `runtimes` (returned in that order): all of them or none.

        Taking a scenario's boards one at a time can deadlock two workers (each holds one board and waits for
        the other's); a worker that cannot have them all gives back what it took and tries again, up to timeout_s.
        """
        for runtime in set(runtimes):
            specs = self.candidates(runtime)
            if len(specs) < runtimes.count(runtime):
                scope = f" among --hil-board {','.join(self.only_board_ids)}" if self.only_board_ids else ""
                wanted = "board" if runtimes.count(runtime) == 1 else f"{runtimes.count(runtime)} boards"
                raise BoardNotFound(f"<any {runtime}>", f"bench {self.bench.name!r} has no {runtime} {wanted}{scope}"
                                    + (f" (it has {len(specs)})" if specs else ""))
        deadline = Deadline(timeout_s)
        while True:
            taken: list[BoardSpec] = []
            try:
                for runtime in runtimes:
                    spec = self._lock_free_board(runtime, exclude={s.board_id for s in taken})
                    if spec is None:
                        break
                    taken.append(spec)
            finally:
                if len(taken) != len(runtimes):
                    for spec in taken:
                        self._locks.pop(spec.board_id).release()
            if len(taken) == len(runtimes):
                try:
                    return [self.board(spec) for spec in taken]
                except BaseException:   # a board that cannot be made must not stay locked for the whole run
                    for spec in taken:
                        self._locks.pop(spec.board_id).release()
                    raise
            if deadline.expired:
                usable = [s.board_id for r in set(runtimes) for s in self.candidates(r)
                          if not self.broken_reason(s.board_id)]
                raise BoardBusy(" + ".join(f"a {r} board" for r in runtimes), timeout_s,
                                ", ".join(usable) + " all busy")
            deadline.sleep(LOCK_POLL_S * random.uniform(*RETRY_JITTER))

    def _lock_free_board(self, runtime: str, exclude: set[str]) -> BoardSpec | None:
        """Lock the first free board of `runtime` not in `exclude`; None if all are busy. BoardBroken if every
        one of them is marked broken."""
        specs = self.candidates(runtime)
        usable = [s for s in specs if not self.broken_reason(s.board_id)]
        if not usable:
            first = specs[0].board_id
            raise BoardBroken(first, self.broken_reason(first) or "broken")
        for spec in usable:
            if spec.board_id in exclude:
                continue
            lock = filelock.FileLock(str(self._lock_path(spec.board_id)))
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                continue
            self._locks[spec.board_id] = lock
            return spec
        return None

    def release(self, board: Board) -> None:
        board.close()
        lock = self._locks.pop(board.board_id, None)
        if lock is not None:
            lock.release()

    def close(self) -> None:
        for board in list(self._boards.values()):
            self.release(board)
