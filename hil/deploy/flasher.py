"""A flasher is anything that can load an image onto a board and reset it.

Implementations: ProbeRsFlasher (SWD through a debug probe), PicotoolFlasher (USB, BOOTSEL), Uf2CopyFlasher (the
RPI-RP2 mass-storage volume). Each runs its tool with the bench's environment (`Bench.tool_env()`), so the same
code drives the real tools on a physical bench and the stand-ins on the simulated one, and on its ToolHost (this
host by default; the exporter host of a labgrid place), which also stages the image where the tool reads it.

A flasher reports what it did (FlashReport); deciding whether to flash at all is the board layer's business.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from hil.deadline import Deadline
from hil.deploy.tool_host import LOCAL, ToolHost
from hil.deploy.tool_output import Progress, parse_progress
from hil.deploy.tool_versions import check_version
from hil.errors import ProvisionError

ProgressCallback = Callable[[Progress], None]

ELF_MAGIC = b"\x7fELF"
UF2_MAGIC = b"UF2\n"          # first magic word of every UF2 block
KIND_ELF, KIND_UF2, KIND_BIN = "elf", "uf2", "bin"
HEARTBEAT_INTERVAL_S = 1.0   # a tool that prints nothing while piped (probe-rs) still shows it is alive
VERSION_TIMEOUT_S = 10.0
VERSION_SHARE_OF_DEADLINE = 0.25   # at most this much of a flash's deadline goes to asking the tool's version


def image_kind(path: Path) -> str:
    """'elf', 'uf2' or 'bin', from the file's first bytes (Cargo's ELF output has no suffix)."""
    with path.open("rb") as f:
        head = f.read(len(ELF_MAGIC))
    if head == ELF_MAGIC:
        return KIND_ELF
    if head == UF2_MAGIC:
        return KIND_UF2
    return KIND_BIN


@dataclass
class FlashReport:
    """What one flash did: recorded with the results."""

    flasher: str                    # "probe-rs", "picotool", "uf2-copy"
    image: str                      # path of the image that was loaded
    image_size_bytes: int
    elapsed_s: float                # host clock, from start of the tool to the end of verify
    tool_versions: dict[str, str] = field(default_factory=dict)
    verified: bool = False          # read-back verify done by the tool
    reset_done: bool = False        # the board was reset into the new image
    steps: list[str] = field(default_factory=list)   # argv of each tool run, or the file copy, in order

    def as_dict(self) -> dict:
        return {"flasher": self.flasher, "image": self.image, "image_size_bytes": self.image_size_bytes,
                "elapsed_s": round(self.elapsed_s, 3), "elapsed_clock": "host",
                "tool_versions": dict(self.tool_versions), "verified": self.verified,
                "reset_done": self.reset_done, "steps": list(self.steps)}


class Flasher(ABC):
    """Anything that can load an image onto one board."""

    name: str = ""
    image_suffixes: tuple[str, ...] = (".elf",)   # file kinds this flasher takes, preferred first
    image_kinds: tuple[str, ...] = ("elf",)

    def __init__(self, board_id: str, env: Mapping[str, str] | None = None, tool_host: ToolHost = LOCAL):
        self.board_id = board_id
        self.env = dict(env) if env is not None else None
        self.tool_host = tool_host

    @abstractmethod
    def flash(self, image_path: str | Path, timeout_s: float,
              progress: ProgressCallback | None = None) -> FlashReport:
        """Write `image_path` to the board (verifying where the tool can), then start it. Raises on failure."""

    @abstractmethod
    def reset(self, timeout_s: float) -> None:
        """Restart the board's application."""

    def version_argv(self) -> list[str] | None:
        """How to ask the flashing tool its version; None for a flasher that runs no tool."""
        return None

    def version(self, timeout_s: float = VERSION_TIMEOUT_S) -> str | None:
        """The tool's version line, or None if the tool is missing (or does not answer within timeout_s)."""
        argv = self.version_argv()
        return self.tool_host.version(argv, timeout_s, env=self.env) if argv else None

    def versions(self, timeout_s: float = VERSION_TIMEOUT_S) -> dict[str, str]:
        found = self.version(timeout_s)
        return {self.name: found} if found else {}

    def _start_report(self, image: Path, deadline: Deadline) -> FlashReport:
        """The report of a flash about to start, with the tool's version: asked within the flash deadline, since a
        tool may hang on every call."""
        versions = self.versions(min(VERSION_TIMEOUT_S, deadline.remaining_s * VERSION_SHARE_OF_DEADLINE))
        for tool, version_line in versions.items():
            check_version(tool, version_line)   # refuse a tool whose output we would misread
        return FlashReport(flasher=self.name, image=str(image), image_size_bytes=image.stat().st_size,
                           elapsed_s=0.0, tool_versions=versions)

    # -- shared helpers ------------------------------------------------------------------------------------

    def _check_image(self, image_path: str | Path) -> Path:
        """The image, if it exists and is of a kind this flasher loads (judged by content: an ELF needs no suffix)."""
        path = Path(image_path)
        if not path.is_file():
            raise ProvisionError(self.board_id, f"image {path} does not exist (build it first)")
        kind = image_kind(path)
        if kind not in self.image_kinds:
            accepted = ", ".join(self.image_kinds)
            raise ProvisionError(self.board_id, f"{self.name} cannot load {path.name} ({kind}): expects {accepted}")
        return path

    @staticmethod
    def _line_watcher(progress: ProgressCallback | None) -> Callable[[str, str], None] | None:
        """An `on_output_line` callback that turns tool output into Progress calls."""
        if progress is None:
            return None

        def on_line(_stream: str, line: str) -> None:
            for observation in parse_progress(line):
                progress(observation)
        return on_line

    @staticmethod
    @contextmanager
    def _heartbeat(progress: ProgressCallback | None, phase: str) -> Iterator[None]:
        """Report `phase` (percent unknown) every HEARTBEAT_INTERVAL_S while the block runs."""
        if progress is None:
            yield
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_INTERVAL_S):
                progress(Progress(phase, None))
        progress(Progress(phase, None))
        thread = threading.Thread(target=beat, name=f"heartbeat-{phase}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
