"""Fixtures for the simulated bench's infrastructure: a supervisor running fake board processes."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.sim_bench.sim_helpers import RunningSupervisor


@pytest.fixture
def sim_dir():
    # Short and under /tmp: the control socket's path must fit a Unix socket address comfortably.
    path = Path(tempfile.mkdtemp(prefix="hil-sim-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_supervisor(sim_dir):
    started: list[RunningSupervisor] = []

    def start(*args: str) -> RunningSupervisor:
        supervisor = RunningSupervisor(sim_dir, list(args))
        started.append(supervisor)
        supervisor.wait_ready()
        return supervisor

    yield start
    for supervisor in started:
        supervisor.stop()
