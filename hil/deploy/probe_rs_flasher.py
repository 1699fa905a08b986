"""Flashing over SWD with probe-rs through a debug probe (e.g. the Raspberry Pi Debug Probe).

`probe-rs download --chip RP2040 --probe VID:PID:SERIAL --non-interactive --verify IMAGE`, then
`probe-rs reset --chip RP2040 --probe ... --non-interactive`. The probe is always named by VID:PID:SERIAL, so a
bench with several probes never flashes the wrong board.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from hil.deadline import Deadline
from hil.deploy.flash_failed import FlashFailed
from hil.deploy.flasher import KIND_ELF, KIND_UF2, Flasher, FlashReport, ProgressCallback, image_kind
from hil.deploy.tool_host import LOCAL, ToolHost
from hil.deploy.tool_output import ProbeListing, parse_probe_rs_list
from hil.errors import ToolFailed
from hil.process import run_tool

PROBE_RS = "probe-rs"
INSTALL_HINT = "https://probe.rs/docs/getting-started/installation/"
DEFAULT_CHIP = "RP2040"
RESET_SHARE_MIN_S = 5.0        # time kept back from the download for the reset that follows
# `--binary-format` for each image kind probe-rs is given (an ELF is its default).
BINARY_FORMAT_BY_KIND = {KIND_ELF: None, KIND_UF2: "uf2"}


class ProbeRsFlasher(Flasher):
    name = PROBE_RS
    image_suffixes = (".elf", ".uf2")
    image_kinds = (KIND_ELF, KIND_UF2)

    def __init__(self, board_id: str, probe: str, *, chip: str = DEFAULT_CHIP,
                 env: Mapping[str, str] | None = None, tool_host: ToolHost = LOCAL):
        super().__init__(board_id, env, tool_host)
        self.probe = probe
        self.chip = chip

    # -- argv, built in one place so tests can check them against the tool's documented interface ----------

    def _target_args(self) -> list[str]:
        return ["--chip", self.chip, "--probe", self.probe, "--non-interactive"]

    def download_argv(self, image_path: str | Path, kind: str = KIND_ELF) -> list[str]:
        argv = [PROBE_RS, "download", *self._target_args(), "--verify"]
        binary_format = BINARY_FORMAT_BY_KIND.get(kind)
        if binary_format:
            argv += ["--binary-format", binary_format]
        return [*argv, str(image_path)]

    def reset_argv(self) -> list[str]:
        return [PROBE_RS, "reset", *self._target_args()]

    @staticmethod
    def version_argv() -> list[str]:
        return [PROBE_RS, "--version"]

    # -- Flasher --------------------------------------------------------------------------------------------

    def flash(self, image_path: str | Path, timeout_s: float,
              progress: ProgressCallback | None = None) -> FlashReport:
        image = self._check_image(image_path)
        deadline = Deadline(timeout_s)
        report = self._start_report(image, deadline)
        staged = self.tool_host.stage(image, deadline.remaining_s)   # the same path unless the tool runs elsewhere
        download = self.download_argv(staged, image_kind(image))
        report.steps.append(" ".join(download))
        download_budget_s = max(deadline.remaining_s - RESET_SHARE_MIN_S, deadline.remaining_s / 2)
        with self._heartbeat(progress, "Flashing"):
            self._run(download, download_budget_s, progress)
        report.verified = True
        report.steps.append(" ".join(self.reset_argv()))
        self._run(self.reset_argv(), deadline.remaining_s, None)
        report.reset_done = True
        report.elapsed_s = deadline.elapsed_s
        return report

    def reset(self, timeout_s: float) -> None:
        self._run(self.reset_argv(), timeout_s, None)


    def _run(self, argv: list[str], timeout_s: float, progress: ProgressCallback | None) -> None:
        try:
            self.tool_host.run(argv, timeout_s, env=self.env, install_hint=INSTALL_HINT,
                               on_output_line=self._line_watcher(progress))
        except ToolFailed as error:
            raise FlashFailed.from_tool_failure(self.board_id, self.name, error) from error


def list_probes(timeout_s: float, env: Mapping[str, str] | None = None) -> list[ProbeListing]:
    """The debug probes `probe-rs list` sees (ToolMissing if probe-rs is not installed)."""
    result = run_tool([PROBE_RS, "list"], timeout_s, env=env, install_hint=INSTALL_HINT)
    return parse_probe_rs_list(result.stdout)
