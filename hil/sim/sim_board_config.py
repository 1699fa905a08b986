"""What the supervisor knows about one simulated board before it starts: id, runtime, identity, command line.

Identities are derived from the board id, so they are stable across runs and hosts: the USB serial number is 16
upper-case hex digits (a Pico's flash unique id looks like `E6614103E7...`), the USB VID:PID is the one the real
board enumerates with, and a Rust board has a simulated Raspberry Pi Debug Probe with its own serial number.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import ToolMissing

RASPBERRY_PI_VID = "2e8a"
USB_VID_PID = {"rust": f"{RASPBERRY_PI_VID}:0009",          # pico-sdk stdio_usb style CDC device
               "micropython": f"{RASPBERRY_PI_VID}:0005"}   # MicroPython's rp2 port
DEBUG_PROBE_VID_PID = f"{RASPBERRY_PI_VID}:000c"
BOARD_ID_PREFIX = {"rust": "sim-rust", "micropython": "sim-mpy"}
SERIAL_NUMBER_HEX_DIGITS = 16
NODE_DIR = Path(__file__).resolve().parent / "node"
BOARD_SCRIPT = NODE_DIR / "pico_board.mjs"   # one emulated RP2040 for both runtimes: only the flash differs
LINKS_BY_RUNTIME = {"rust": ("usb", "uart0"), "micropython": ("usb",)}   # fd 3, then fd 4


def serial_number_for(board_id: str, purpose: str = "board") -> str:
    digest = hashlib.sha256(f"{purpose}:{board_id}".encode()).hexdigest().upper()
    return digest[:SERIAL_NUMBER_HEX_DIGITS]


def default_board_command(runtime: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise ToolMissing("node", "Node.js 18 or newer, e.g. apt-get install nodejs")
    from hil.sim.node_packages import ensure_installed   # the scripts run beside their npm packages
    return [node, str(ensure_installed() / BOARD_SCRIPT.name)]


@dataclass(frozen=True)
class SimBoardConfig:
    board_id: str
    runtime: str                      # "rust" | "micropython"
    command: tuple[str, ...]          # argv prefix; the supervisor appends --board-id/--state-dir/--options-json
    serial_number: str = ""
    vid_pid: str = ""
    probe: str | None = None
    links: tuple[str, ...] = field(default=())
    bootrom: str = ""                 # the RP2040 bootrom image every board maps at 0
    firmware_uf2: str = ""            # a MicroPython board: the UF2 programmed into its flash
    xip_cache_model: bool = False     # charge XIP cache misses (flash wait states) in virtual time

    @classmethod
    def create(cls, board_id: str, runtime: str, command: list[str] | None = None, bootrom: str = "",
               firmware_uf2: str = "", xip_cache_model: bool = False) -> "SimBoardConfig":
        if runtime not in USB_VID_PID:
            raise ValueError(f"unknown runtime {runtime!r} for board {board_id!r}")
        probe = None
        if runtime == "rust":
            probe = f"{DEBUG_PROBE_VID_PID}:{serial_number_for(board_id, 'probe')}"
        return cls(board_id=board_id, runtime=runtime,
                   command=tuple(command if command is not None else default_board_command(runtime)),
                   serial_number=serial_number_for(board_id), vid_pid=USB_VID_PID[runtime], probe=probe,
                   links=LINKS_BY_RUNTIME[runtime], bootrom=bootrom,
                   firmware_uf2=firmware_uf2 if runtime == "micropython" else "", xip_cache_model=xip_cache_model)

    def options(self) -> dict:
        """What the board process is told in --options-json (it may ignore any of it)."""
        options = {"serial_number": self.serial_number, "vid_pid": self.vid_pid, "probe": self.probe,
                   "links": list(self.links), "runtime": self.runtime}
        if self.bootrom:
            options["bootrom"] = self.bootrom
        if self.firmware_uf2:
            options["firmware_uf2"] = self.firmware_uf2
        if self.xip_cache_model:
            options["xip_cache_model"] = True
        return options


def default_board_ids(rust_count: int, micropython_count: int) -> list[tuple[str, str]]:
    """(board_id, runtime) pairs of the default sim bench: sim-rust-0.., then sim-mpy-0.."""
    return ([(f"{BOARD_ID_PREFIX['rust']}-{i}", "rust") for i in range(rust_count)]
            + [(f"{BOARD_ID_PREFIX['micropython']}-{i}", "micropython") for i in range(micropython_count)])
