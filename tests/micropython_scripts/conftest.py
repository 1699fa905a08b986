"""Fixtures for running the lesson's MicroPython scripts under host CPython and on the simulated Pico."""
from __future__ import annotations

import importlib
import shutil
import sys
from dataclasses import dataclass

import pytest

from hil.process import run_tool
from tests.micropython_scripts.lesson_paths import LESSON_DIR

LESSON_MODULES = ("kernels", "errors", "serial_io", "jitter", "dual", "memory", "platform_info")
BOARD_RUN_TIMEOUT_S = 120.0
COPY_TIMEOUT_S = 120.0


@pytest.fixture
def lesson(monkeypatch):
    """Imports lesson modules under CPython by their board names (`kernels`, `errors`, ...), then forgets them."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in a folder that is deployed as is
    monkeypatch.syspath_prepend(str(LESSON_DIR))
    for name in LESSON_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)

    def load(name: str):
        return importlib.import_module(name)
    yield load
    for name in LESSON_MODULES:
        sys.modules.pop(name, None)


@dataclass
class BoardRun:
    stdout: str        # as the board printed it, "\r\n" turned into "\n"
    stderr: str        # the traceback, if the code raised
    returncode: int    # 1 when it raised, as mpremote exits

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@pytest.fixture(scope="session")
def micropython_board():
    """run(code, stdin_bytes=b"") -> BoardRun: the code runs on a simulated Pico (the official MicroPython firmware
    in the emulated RP2040) with the lesson scripts in its root folder, as they are on a board. One board for the
    session: the scripts are copied once, each run is a raw-REPL exec (mpremote's transport, as a library)."""
    from mpremote.transport_serial import SerialTransport

    from tests.sim_micropython.conftest import MPREMOTE, short_tmp_dir
    from tests.sim_micropython.sim_supervisor import SimSupervisor
    sim_dir = short_tmp_dir("hil-scripts-")
    sim = SimSupervisor(sim_dir, board_count=1)
    transport = None
    try:
        scripts = sorted(str(path) for path in LESSON_DIR.glob("*.py"))
        run_tool([str(MPREMOTE), "connect", sim.ports[0], "cp", *scripts, ":"], COPY_TIMEOUT_S)
        transport = SerialTransport(sim.ports[0])
        transport.enter_raw_repl(soft_reset=False)

        def run(code: str, stdin_bytes: bytes = b"", timeout_s: float = BOARD_RUN_TIMEOUT_S,
                fresh: bool = False) -> BoardRun:
            if fresh:   # a soft reset first: a new heap, nothing imported
                transport.exit_raw_repl()
                transport.enter_raw_repl(soft_reset=True)
            transport.exec_raw_no_follow(code)
            if stdin_bytes:
                transport.serial.write(stdin_bytes)
            stdout, stderr = transport.follow(timeout_s)
            return BoardRun(stdout.decode(errors="replace").replace("\r\n", "\n"),
                            stderr.decode(errors="replace").replace("\r\n", "\n"), 1 if stderr else 0)
        yield run
    finally:
        if transport is not None:
            transport.close()
        sim.stop()
        shutil.rmtree(sim_dir, ignore_errors=True)
