"""Where a flasher's tool runs: this host, or the host the board's probe or USB hangs off.

A flasher builds the tool's argv as it would locally and hands it to its ToolHost, which stages the image where
the tool can read it (`stage`) and runs the command there (`run`, same contract as hil.process.run_tool: a
host-side deadline, the process group killed when it passes, output lines to a callback). The default is this
host; a bench that reaches boards on other hosts gives its flashers a ToolHost of its own (Bench.flasher).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Sequence

from hil.process import ToolResult, run_tool, tool_version


class ToolHost:
    """This host: the image is used where it is, the tool runs here."""

    def describe(self) -> str:
        return "this host"

    def stage(self, image: Path, timeout_s: float) -> str:
        """The image's path as the tool on this host sees it (copied there first where needed)."""
        return str(image)

    def run(self, argv: Sequence[str], timeout_s: float, *, env: Mapping[str, str] | None = None,
            check: bool = True, install_hint: str = "",
            on_output_line: Callable[[str, str], None] | None = None) -> ToolResult:
        return run_tool(argv, timeout_s, env=env, check=check, install_hint=install_hint,
                        on_output_line=on_output_line)

    def version(self, argv: Sequence[str], timeout_s: float, env: Mapping[str, str] | None = None) -> str | None:
        """The tool's version line as run on this host, or None if it is missing or does not answer in time."""
        return tool_version(argv, timeout_s, env=env, runner=self.run)


LOCAL = ToolHost()
