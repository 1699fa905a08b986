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


class FirmwareImageMissing(HilError):
    """A firmware image a simulated board needs (bootrom, MicroPython UF2) is not where it was looked for."""

    def __init__(self, kind: str, detail: str):
        self.kind = kind
        self.detail = detail
        super().__init__(f"simulated Pico {kind.replace('_', ' ')}: {detail}")


class FirmwareImageInvalid(HilError):
    """A file given as a firmware image is not one (not an RP2040 UF2, not MicroPython, not a 16 KiB bootrom)."""

    def __init__(self, path, kind: str, detail: str):
        self.path = str(path)
        self.kind = kind
        self.detail = detail
        super().__init__(f"{path}: {detail} (refused as the simulated Pico's {kind.replace('_', ' ')})")
