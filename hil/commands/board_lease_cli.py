"""The CLI's way to borrow one named board: the same BoardLease and host-wide board locks a test run uses."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec
from hil.board.board_factory import make_board
from hil.board.board_lease import BoardLease
from hil.board.board_pool import BoardPool
from hil.deadline import Deadline
from hil.results.metric import Metric
from hil.run_context import default_lock_dir


class CommandRecorder:
    """What a command's lease records, kept for the command to print if it wants to."""

    def __init__(self):
        self.metrics: list[Metric] = []
        self.boards: list[dict] = []
        self.texts: dict[str, str] = {}

    def metric(self, metric: Metric) -> None:
        self.metrics.append(metric)

    def board(self, board_facts: dict) -> None:
        self.boards.append(board_facts)

    def evidence(self, kind: str, text: str) -> None:
        self.texts[kind] = text


@contextmanager
def board_lease(bench: Bench, spec: BoardSpec, deadline: Deadline) -> Iterator[BoardLease]:
    """A lease on board `spec` (the role is its id), waiting for it up to the deadline. Broken marks go to a
    folder of this command's own: a command's verdict never outlives it."""
    with tempfile.TemporaryDirectory(prefix="hil-command-") as marks:
        pool = BoardPool(bench, default_lock_dir(), lambda s: make_board(bench, s), [spec.board_id],
                         broken_dir=Path(marks))
        try:
            with BoardLease(pool, {spec.board_id: spec.runtime}, None, CommandRecorder(),
                            acquire_timeout_s=max(deadline.remaining_s, 0.0)) as lease:
                yield lease
        finally:
            pool.close()
