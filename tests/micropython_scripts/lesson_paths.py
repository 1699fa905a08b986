"""Where the lesson scripts and the MicroPython WebAssembly engine are."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSON_DIR = REPO_ROOT / "scripts_micropython" / "lesson"
HARNESS = Path(__file__).with_name("run_micropython.mjs")
ENGINE = (REPO_ROOT / "hil" / "sim" / "node" / "node_modules" / "@micropython"
          / "micropython-webassembly-pyscript" / "micropython.mjs")
