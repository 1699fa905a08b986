"""Fake probe-rs / picotool executables on a private PATH, driven by a per-test script."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

FAKE_TOOL = Path(__file__).parent / "fake_tools" / "fake_tool.py"


class FakeTools:
    """Installs fake tools in a temporary bin folder and records how they were called."""

    def __init__(self, root: Path):
        self.bin_dir = root / "bin"
        self.bin_dir.mkdir()
        self.script_path = root / "script.json"
        self.log_path = root / "calls.jsonl"
        self.script: dict[str, list[dict]] = {}
        self._save()

    def install(self, *names: str) -> "FakeTools":
        for name in names:
            wrapper = self.bin_dir / name
            wrapper.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(FAKE_TOOL)!r}, "
                               f"run_name='__main__', init_globals={{'TOOL_NAME': {name!r}}})\n")
            wrapper.chmod(0o755)
        return self

    def on(self, command: str, *steps: dict) -> "FakeTools":
        """What `command` (e.g. "probe-rs download") does on its 1st, 2nd, ... call."""
        self.script[command] = list(steps)
        self._save()
        return self

    def _save(self) -> None:
        self.script_path.write_text(json.dumps(self.script))

    @property
    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.bin_dir}{os.pathsep}/usr/bin:/bin", "FAKE_TOOL_SCRIPT": str(self.script_path),
                "FAKE_TOOL_LOG": str(self.log_path)}

    def calls(self) -> list[list[str]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


@pytest.fixture
def fake_tools(tmp_path: Path) -> FakeTools:
    return FakeTools(tmp_path)


@pytest.fixture
def elf_image(tmp_path: Path) -> Path:
    image = tmp_path / "lesson.elf"
    image.write_bytes(b"\x7fELF" + bytes(252))
    return image
