"""The board lock for commands that drive one board (`hil deploy`, `hil flash`): the same lock test runs take."""
from __future__ import annotations

import contextlib

from hil.bench.bench import Bench
from hil.deadline import Deadline

# Waiting for a run to give the board back: at most this, and never past the command's own deadline.
LOCK_WAIT_TIMEOUT_S = 30.0


@contextlib.contextmanager
def board_lock(bench: Bench, board_id: str, deadline: Deadline):
    from hil.board.board_pool import BoardPool
    from hil.run_context import default_lock_dir

    pool = BoardPool(bench, default_lock_dir(), make_board=lambda spec: None)
    with pool.holding(board_id, min(LOCK_WAIT_TIMEOUT_S, deadline.remaining_s)) as spec:
        yield spec
