"""Fixtures for the simulated MicroPython Pico (the official MicroPython RPI_PICO firmware in the emulated RP2040):
the real simulated bench (SimSupervisor, `hil sim serve`) that unmodified mpremote connects to, one for the
whole folder so the board boots once."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from hil.process import ToolResult, run_tool
from tests.sim_micropython.sim_supervisor import SimSupervisor

MPREMOTE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "mpremote"
MPREMOTE_TIMEOUT_S = 60.0


def short_tmp_dir(prefix: str) -> Path:
    # Under /tmp and short: the supervisor's control socket path must fit a Unix socket address.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@pytest.fixture(scope="package")
def sim():
    sim_dir = short_tmp_dir("hil-mpy-")
    supervisor = SimSupervisor(sim_dir, board_count=1)
    yield supervisor
    supervisor.stop()
    shutil.rmtree(sim_dir, ignore_errors=True)


@pytest.fixture
def mpremote(sim):
    """Runs `mpremote connect <port> ARGS...` against the simulated board; returns the ToolResult."""

    def run(*args: str, timeout_s: float = MPREMOTE_TIMEOUT_S, port: str | None = None) -> ToolResult:
        return run_tool([str(MPREMOTE), "connect", port or sim.ports[0], *args], timeout_s, check=False)

    return run
