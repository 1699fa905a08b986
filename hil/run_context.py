"""What one pytest process of a run shares: the bench, the board pool, and where logs go.

The bench is started on first use (collection of a run that selects no hil test starts nothing) and stopped at
the end of the session. With pytest-xdist every worker has its own RunContext; they share boards through the
pool's file locks and the run folder through the controller.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

import pytest

from hil.bench.bench import Bench
from hil.bench.bench_factory import resolve_bench
from hil.bench.bench_file import BenchConfig
from hil.bench.bench_kind import BenchKind
from hil.bench.board_spec import Runtime
from hil.board.board_factory import make_board
from hil.board.board_lease import BoardLease, Recorder
from hil.board.board_pool import BoardPool
from hil.errors import BoardBroken, HilError

BENCH_START_TIMEOUT_S = 120.0
BROKEN_MARKS_DIR = "broken-boards"


def default_lock_dir() -> Path:
    """Host-wide, so two runs on one host never use the same board at once."""
    return Path(os.environ.get("HIL_LOCK_DIR") or Path(tempfile.gettempdir()) / f"pico-hil-locks-{os.getuid()}")


def safe_name(text: str) -> str:
    """A file name for `text`; two texts never share one (`a/b` and `a_b` differ by a short hash of the text)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:150] or "test"
    if name != text:
        # In front, so the readable end of the name stays the test's own.
        name = f"{hashlib.sha256(text.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}-{name}"
    return name


class RunContext:
    def __init__(self, bench_selector: str, run_dir: Path, only_board_ids: list[str] | None):
        self.bench_selector = bench_selector
        self.run_dir = Path(run_dir)
        self.only_board_ids = only_board_ids
        self._bench: Bench | None = None
        self._resolved: tuple[BenchKind, BenchConfig | None] | None = None
        self._pool: BoardPool | None = None
        self._start_error: HilError | None = None
        # What starting the bench prints (a first-use install's progress) goes past pytest's capture: set by the
        # plugin to the capture manager's "disabled" context.
        self.uncaptured = contextlib.nullcontext

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    def test_log_dir(self, nodeid: str) -> Path:
        path = self.logs_dir / safe_name(nodeid)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def broken_marks_dir(self) -> Path:
        """Boards found broken during this run, one mark each, shared by its workers."""
        return self.run_dir / BROKEN_MARKS_DIR

    def forget_broken_boards(self) -> None:
        """At the start of a run (controller only): marks left by an earlier run in this folder no longer hold."""
        shutil.rmtree(self.broken_marks_dir, ignore_errors=True)

    def resolve_bench(self) -> tuple[BenchKind, BenchConfig | None]:
        """The bench setting turned into a kind and a validated bench file, once per process (ConfigError)."""
        if self._resolved is None:
            self._resolved = resolve_bench(self.bench_selector)
        return self._resolved

    def open_bench(self) -> Bench:
        """A new bench of this run's setting, not started."""
        kind, config = self.resolve_bench()
        return kind.open_bench(config)

    @property
    def bench(self) -> Bench:
        """The started bench. A bench that failed to start fails every later use with the first reason."""
        if self._start_error is not None:
            raise BoardBroken(f"bench {self.bench_selector}", f"bench did not start: {self._start_error}")
        if self._bench is None:
            bench = self.open_bench()
            try:
                with self.uncaptured():
                    bench.start(BENCH_START_TIMEOUT_S)
            except HilError as error:
                self._start_error = error
                raise
            self._bench = bench
        return self._bench

    @property
    def started(self) -> bool:
        return self._bench is not None

    @property
    def pool(self) -> BoardPool:
        if self._pool is None:
            bench = self.bench
            self._pool = BoardPool(bench, default_lock_dir(), lambda spec: make_board(bench, spec),
                                   self.only_board_ids, broken_dir=self.broken_marks_dir)
        return self._pool

    def lease(self, roles: Mapping[str, Runtime], nodeid: str, recorder: Recorder) -> BoardLease:
        """Boards for one test (fixtures and scenario items alike), logging into the test's own folder."""
        return BoardLease(self.pool, roles, self.test_log_dir(nodeid), recorder)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._bench is not None:
            self._bench.stop()
            self._bench = None


run_context_key = pytest.StashKey[RunContext]()
