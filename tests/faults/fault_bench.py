"""A bench of pretend Picos (tests/faults/pretend_pico.py) for fault tests: the framework's real board, transport
and flasher code runs against it, with fake flashing tools on the PATH it gives to tools.

The bench finds each board's port the way a physical bench does (by waiting for it to exist, with a deadline) and,
like the simulated bench or a board with a debugger attached, can tell when a board's core halted.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from hil.bench.bench import AttachedBoard, Bench
from hil.bench.board_spec import BoardSpec
from hil.errors import BoardNotFound
from tests.faults.pretend_pico import HEALTHY, PretendPico

FAKE_TOOL = Path(__file__).with_name("fake_flash_tool.py")
FAKE_TOOL_NAMES = ("probe-rs", "picotool")
TOOL_MODES_FILE = "tool-modes.json"
LOCATE_POLL_S = 0.01
SYSTEM_PATH = "/usr/bin:/bin"


class FaultBench(Bench):
    def __init__(self, root: Path, boards: dict[str, str], behaviours: dict[str, str] | None = None,
                 missing_tools: tuple[str, ...] = (), name: str = "faults"):
        """`boards` maps board id to runtime; `behaviours` maps board id to a pretend_pico behaviour."""
        self.name = name
        self.root = Path(root)
        self.trigger_dir = self.root / "triggers"
        self.trigger_dir.mkdir(parents=True, exist_ok=True)
        self.bin_dir = self.root / "bin"
        self.bin_dir.mkdir(exist_ok=True)
        for tool in FAKE_TOOL_NAMES:
            if tool not in missing_tools:
                link = self.bin_dir / tool
                if not link.exists():
                    link.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(FAKE_TOOL)!r}, "
                                    f"init_globals={{'TOOL_NAME': {tool!r}}}, run_name='__main__')\n")
                    link.chmod(0o755)
        self.specs = [BoardSpec(board_id=board_id, runtime=runtime, serial_number=f"SN-{board_id}",
                                port=str(self.root / f"tty-{board_id}"), probe=f"2e8a:000c:PROBE-{board_id}",
                                flash_method="probe-rs" if runtime == "rust" else "mpremote",
                                source=f"fault bench:{board_id}")
                      for board_id, runtime in boards.items()]
        behaviours = behaviours or {}
        self.picos = {spec.board_id: PretendPico(spec.board_id, spec.runtime, Path(spec.port), self.trigger_dir,
                                                 behaviours.get(spec.board_id, HEALTHY))
                      for spec in self.specs}

    def tool_env(self) -> dict[str, str]:
        return {"PATH": f"{self.bin_dir}{os.pathsep}{SYSTEM_PATH}", "HIL_FAULT_TRIGGERS": str(self.trigger_dir),
                "HIL_FAULT_TOOL_MODES": str(self.root / TOOL_MODES_FILE)}

    def set_tool_mode(self, tool_and_subcommand: str, mode: str) -> None:
        """e.g. set_tool_mode("probe-rs download", "hang"); modes are those of fake_flash_tool.py."""
        path = self.root / TOOL_MODES_FILE
        modes = json.loads(path.read_text()) if path.exists() else {}
        modes[tool_and_subcommand] = mode
        path.write_text(json.dumps(modes))

    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        end = time.monotonic() + timeout_s
        while True:
            if Path(spec.port).exists():
                return spec.port
            if time.monotonic() >= end:
                raise BoardNotFound(spec.board_id, f"serial port {spec.port} absent for {timeout_s:g} s")
            time.sleep(LOCATE_POLL_S)

    def attached(self) -> list[AttachedBoard]:
        return [AttachedBoard(spec.board_id, spec.runtime, spec.port if Path(spec.port).exists() else None, None,
                              spec.serial_number, "present" if Path(spec.port).exists() else "missing")
                for spec in self.specs]

    def device_clock_domain(self, runtime: str) -> str:
        return "device"

    def halt_info(self, spec: BoardSpec, timeout_s: float = 0.0) -> dict | None:
        return self.picos[spec.board_id].halt

    def stop(self) -> None:
        for pico in self.picos.values():
            pico.close()
