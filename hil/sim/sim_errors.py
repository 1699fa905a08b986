"""Errors of the simulated bench's infrastructure (its supervisor and control socket)."""
from __future__ import annotations

from hil.errors import HilError


class SimSupervisorUnavailable(HilError):
    """No supervisor answers at the sim dir (not started, crashed, or another user's)."""

    def __init__(self, sim_dir: str, detail: str):
        self.sim_dir = sim_dir
        self.detail = detail
        super().__init__(f"simulated bench at {sim_dir}: {detail}")


class SimBoardCommandFailed(HilError):
    """A simulated board process answered a command with ok: false."""

    def __init__(self, board_id: str, cmd: str, error: str):
        self.board_id = board_id
        self.cmd = cmd
        self.error = error
        super().__init__(f"simulated board {board_id!r}: {cmd} failed: {error}")


class SimSupervisorRunning(HilError):
    """Another supervisor already serves this sim dir."""

    def __init__(self, sim_dir: str, pid: str):
        self.sim_dir = sim_dir
        self.pid = pid
        super().__init__(f"a simulated bench supervisor (pid {pid or '?'}) already runs in {sim_dir}; "
                         f"connect to it, stop it, or use another --sim-dir / HIL_SIM_DIR")
