"""What a bench says about one board: its identity, its runtime, and how to reach and flash it."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Runtime(str, Enum):
    """What a board runs. A str, so bench files, results JSON and messages read "rust" / "micropython"."""

    RUST = "rust"
    MICROPYTHON = "micropython"

    def __str__(self) -> str:
        return self.value


DEFAULT_FLASH_METHOD = {Runtime.RUST: "probe-rs", Runtime.MICROPYTHON: "mpremote"}


@dataclass(frozen=True)
class BoardSpec:
    board_id: str
    runtime: Runtime
    serial_number: str | None = None   # USB serial number of the Pico: how its port is found again after a reset
    vid_pid: str | None = None         # "2e8a:0009"; narrows discovery
    port: str | None = None            # a fixed port path or an rfc2217://host:port URL
    usb_port: str | None = None        # USB port path ("1-1.3"): finds the board in BOOTSEL, where its serial is shared
    uart_port: str | None = None       # a second link (a Debug Probe's UART), if wired
    probe: str | None = None           # "VID:PID:SERIAL" of the SWD probe, for probe-rs
    flash_method: str = "mpremote"
    source: str = ""                   # "bench.yaml:12", for messages
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "runtime", Runtime(self.runtime))   # "rust" from a file becomes Runtime.RUST

    @property
    def label(self) -> str:
        return f"{self.board_id} ({self.runtime})"
