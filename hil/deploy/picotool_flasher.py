"""Flashing over USB with picotool: the RP2040 must be in BOOTSEL mode to be written.

`picotool load -v -x [--ser SER] FILE` writes, verifies and starts the image. If no BOOTSEL device answers, the
board is asked to enter BOOTSEL (`picotool reboot -u -f [--ser SER]`, which needs the pico-sdk reset interface in
the running firmware, or else a 1200-baud touch on its serial port) and the load is retried until the deadline,
since the BOOTSEL device appears a fraction of a second after the reboot.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from hil.deadline import Deadline
from hil.deploy.baud_touch import touch_1200_baud
from hil.deploy.flash_failed import FlashFailed
from hil.deploy.flasher import KIND_BIN, KIND_ELF, KIND_UF2, Flasher, FlashReport, ProgressCallback
from hil.deploy.tool_host import LOCAL, ToolHost
from hil.deploy.tool_output import PROBLEM_NO_BOOTSEL_DEVICE, classify_problem, parse_picotool_info
from hil.errors import ProvisionError, ToolFailed, seconds_text

PICOTOOL = "picotool"
INSTALL_HINT = "https://github.com/raspberrypi/picotool (or the Raspberry Pi Pico SDK)"
REBOOT_TIMEOUT_S = 10.0
BOOTSEL_RETRY_S = 0.25         # the BOOTSEL device shows up ~0.25 s after a reboot request
BOOTSEL_APPEAR_TIMEOUT_S = 5.0  # how long to keep retrying the load once a reboot was requested
INFO_TIMEOUT_S = 10.0

PortFinder = Callable[[float], str]   # timeout_s -> the board's serial port now


class PicotoolFlasher(Flasher):
    name = PICOTOOL
    image_suffixes = (".elf", ".uf2")
    image_kinds = (KIND_ELF, KIND_UF2, KIND_BIN)

    def __init__(self, board_id: str, serial_number: str | None = None, *,
                 env: Mapping[str, str] | None = None, port_finder: PortFinder | None = None,
                 bootsel_appear_timeout_s: float = BOOTSEL_APPEAR_TIMEOUT_S, tool_host: ToolHost = LOCAL):
        super().__init__(board_id, env, tool_host)
        self.bootsel_appear_timeout_s = bootsel_appear_timeout_s
        self.serial_number = serial_number
        self.port_finder = port_finder   # for the 1200-baud touch when the firmware has no reset interface

    # -- argv -----------------------------------------------------------------------------------------------

    def _selection(self) -> list[str]:
        return ["--ser", self.serial_number] if self.serial_number else []

    def load_argv(self, image_path: str | Path) -> list[str]:
        return [PICOTOOL, "load", "-v", "-x", *self._selection(), str(image_path)]

    def reboot_to_bootsel_argv(self) -> list[str]:
        return [PICOTOOL, "reboot", "-u", "-f", *self._selection()]

    def reboot_argv(self) -> list[str]:
        return [PICOTOOL, "reboot", "-f", *self._selection()]

    def info_argv(self) -> list[str]:
        return [PICOTOOL, "info", "-a", *self._selection()]

    @staticmethod
    def version_argv() -> list[str]:
        return [PICOTOOL, "version"]

    # -- Flasher --------------------------------------------------------------------------------------------

    def flash(self, image_path: str | Path, timeout_s: float,
              progress: ProgressCallback | None = None) -> FlashReport:
        image = self._check_image(image_path)
        deadline = Deadline(timeout_s)
        report = self._start_report(image, deadline)
        load = self.load_argv(self.tool_host.stage(image, deadline.remaining_s))
        report.steps.append(" ".join(load))
        first = self._try(load, deadline.remaining_s, progress)
        if first is not None:
            if classify_problem(f"{first.stdout}\n{first.stderr}") != PROBLEM_NO_BOOTSEL_DEVICE:
                raise FlashFailed.from_tool_failure(self.board_id, self.name, first)
            report.steps.append(self._enter_bootsel(deadline))
            self._load_when_bootsel_appears(load, deadline, progress)
        report.verified = True
        report.reset_done = True   # -x: the device reboots into the new image
        report.elapsed_s = deadline.elapsed_s
        return report

    def reset(self, timeout_s: float) -> None:
        failure = self._try(self.reboot_argv(), timeout_s, None)
        if failure is not None:
            raise FlashFailed.from_tool_failure(self.board_id, self.name, failure)


    def info(self, timeout_s: float = INFO_TIMEOUT_S) -> dict[str, dict[str, str]]:
        """`picotool info -a` of the board in BOOTSEL, parsed into groups."""
        result = self.tool_host.run(self.info_argv(), timeout_s, env=self.env, install_hint=INSTALL_HINT)
        return parse_picotool_info(result.stdout)

    # -- steps ----------------------------------------------------------------------------------------------

    def _try(self, argv: list[str], timeout_s: float, progress: ProgressCallback | None) -> ToolFailed | None:
        """Run argv; a non-zero exit is returned (for the caller to judge), timeouts and absence raise."""
        try:
            self.tool_host.run(argv, timeout_s, env=self.env, install_hint=INSTALL_HINT,
                               on_output_line=self._line_watcher(progress))
        except ToolFailed as error:
            return error
        return None

    def _enter_bootsel(self, deadline: Deadline) -> str:
        """Ask the running firmware to reboot into BOOTSEL; returns what was done, for the report."""
        reboot = self.reboot_to_bootsel_argv()
        failure = self._try(reboot, min(REBOOT_TIMEOUT_S, deadline.remaining_s), None)
        if failure is None:
            return " ".join(reboot)
        if self.port_finder is None:
            raise FlashFailed.from_tool_failure(self.board_id, self.name, failure)
        port = self.port_finder(min(REBOOT_TIMEOUT_S, deadline.remaining_s))
        touch_1200_baud(port, self.board_id)
        return f"1200-baud touch on {port}"

    def _load_when_bootsel_appears(self, load: list[str], deadline: Deadline,
                                   progress: ProgressCallback | None) -> None:
        appear = deadline.sub(self.bootsel_appear_timeout_s)

        def loaded() -> bool:
            failure = self._try(load, deadline.remaining_s, progress)
            if failure is None:
                return True
            still_missing = classify_problem(f"{failure.stdout}\n{failure.stderr}") == PROBLEM_NO_BOOTSEL_DEVICE
            if not still_missing:
                raise FlashFailed.from_tool_failure(self.board_id, self.name, failure)
            return False

        if not appear.poll(loaded, BOOTSEL_RETRY_S):
            raise ProvisionError(
                self.board_id, f"picotool: asked the board to enter BOOTSEL, but no BOOTSEL device with "
                f"serial {self.serial_number or '(any)'} appeared within {seconds_text(appear.timeout_s)} s; "
                "hold BOOTSEL while plugging the board in, then run again")
