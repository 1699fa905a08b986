"""A Pico running the Rust lesson firmware: its line protocol, its build id, and flashing only when needed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.bench.recovery import RecoveryMeans, cannot_recover_reason, recovery_plan
from hil.board.board import HALT_QUERY_MIN_S, MIN_OPEN_S, Board, BoardState, ProvisionArtifacts
from hil.deadline import Deadline
from hil.deploy.firmware_image import FirmwareImage
from hil.errors import BoardHalted, HilError, ProvisionError, StepTimeout, seconds_text
from hil.transport.serial_log import SerialLog

IDENTIFY_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0
BOOT_TIMEOUT_S = 15.0
HALT_AFTER_PANIC_TIMEOUT_S = 1.0  # the PANIC line already says it halted: the bench report is a detail
RESET_LOOP_PORT_LOSSES = 2      # the port vanishing this often while waiting for the firmware means a reset loop
# Each ends in the line's "\n": on a stream "$" would also match a line still arriving, cutting it short.
FINAL_LINE = re.compile(r"^(?:(?P<status>OK|ERR)\b.*?|PANIC .*?)\r?\n", re.MULTILINE)
PANIC_ALTERNATIVE = re.compile(r"^PANIC [^\n]*\n", re.MULTILINE)   # a panic ends any wait on the console
PANIC_LINE = re.compile(r"^PANIC (?P<message>.*?)(?: at (?P<location>\S+:\d+))?\r?\n", re.MULTILINE)
ID_LINE = re.compile(r"^OK id name=(?P<name>\S+) version=(?P<version>\S+) build=(?P<build>[0-9a-f]+)\r?$",
                     re.MULTILINE)


@dataclass
class ProvisionReport:
    board_id: str
    flashed: bool
    elapsed_s: float
    build_id_before: str | None
    build_id_after: str | None
    flasher: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FirmwareIdentity:
    name: str
    version: str
    build_id: str


class RustBoard(Board):
    runtime = Runtime.RUST
    console_fail_on = (PANIC_ALTERNATIVE,)

    def __init__(self, spec: BoardSpec, bench: Bench, flasher, log: SerialLog | None = None):
        super().__init__(spec, bench, log)
        self.flasher = flasher
        self.last_panic: str | None = None
        # what can restart this board, most gentle first (probe, power, RUN pin, picotool): what the bench gives it
        self.recovery: list[RecoveryMeans] = recovery_plan(spec, flasher.reset if flasher else None,
                                                           bench.power_switch(spec), bench.reset_line(spec))

    def cannot_recover_reason(self) -> str:
        """'' if this board can be brought back from a panic; otherwise why not (before panicking it)."""
        return cannot_recover_reason(self.spec, self.recovery)

    # -- the line protocol ----------------------------------------------------------------------------------

    def command(self, line: str, timeout_s: float = COMMAND_TIMEOUT_S) -> re.Match:
        """Send one command line and return the match of its final `OK …` / `ERR …` line.

        A `PANIC` line instead raises BoardHalted with the panic message and location.
        """
        deadline = Deadline(timeout_s)  # one budget for finding the port, writing and the answer
        self.open(max(deadline.remaining_s, MIN_OPEN_S))
        self.transport.write(line.rstrip("\n") + "\n", timeout_s=deadline.remaining_s)
        try:
            match = self.transport.expect(FINAL_LINE, deadline.remaining_s)
        except StepTimeout as error:  # name the command's own budget, not what was left of it
            raise StepTimeout(error.pattern, error.tail, error.log_path, timeout_s, error.board_id) from None
        if match.group(0).startswith("PANIC"):
            self._halted_by(match.group(0))
        return match

    def _halted_by(self, panic_line: str) -> None:
        self.set_state(BoardState.HALTED)
        self.last_panic = panic_line.strip()
        info = self.bench.halt_info(self.spec, timeout_s=HALT_AFTER_PANIC_TIMEOUT_S) or {}
        raise BoardHalted(self.board_id, info.get("reason", "panic"), info.get("pc"), self.last_panic)

    def _console_failed(self, line: str) -> None:
        self._halted_by(line)

    def expect_panic(self, timeout_s: float) -> dict:
        """Wait for the PANIC line; returns message and file:line, plus the bench's halt report if it has one."""
        match = self.expect(PANIC_LINE, timeout_s, fail_on=())
        self.set_state(BoardState.HALTED)
        self.last_panic = match.group(0).strip()
        halt = self.halt_report(timeout_s=min(timeout_s, 1.0))
        return {"message": match.group("message"), "location": match.group("location"), "halt": halt}

    def identify(self, timeout_s: float = IDENTIFY_TIMEOUT_S) -> FirmwareIdentity:
        match = self.command("id", timeout_s)
        found = ID_LINE.search(match.group(0))
        if not found:
            raise ProvisionError(self.board_id, f"unexpected answer to 'id': {match.group(0)!r}")
        identity = FirmwareIdentity(found["name"], found["version"], found["build"])
        self.facts.update(firmware=identity.name, firmware_version=identity.version, build_id=identity.build_id)
        self.set_state(BoardState.READY)
        return identity

    def is_responsive(self, timeout_s: float = IDENTIFY_TIMEOUT_S) -> bool:
        try:
            self.command("ping", timeout_s)
            return True
        except (StepTimeout, BoardHalted):
            return False
        except HilError:
            return False

    # -- provisioning ---------------------------------------------------------------------------------------

    def running_build_id(self, timeout_s: float = IDENTIFY_TIMEOUT_S) -> str | None:
        """The build id the board reports, or None if it does not answer like the lesson firmware."""
        try:
            self.transport.drain(quiet_s=0.02, timeout_s=0.5)
            return self.identify(timeout_s).build_id
        except HilError:
            return None

    def provision(self, artifacts: ProvisionArtifacts, timeout_s: float,
                  progress: Callable[[str], None] | None = None) -> ProvisionReport:
        """Flash the firmware unless the board already runs that build; then wait for it to answer."""
        self.ensure_usable()
        image: FirmwareImage = self._require("a firmware image", artifacts.firmware)
        deadline = Deadline(timeout_s)
        before = self.running_build_id(min(IDENTIFY_TIMEOUT_S, deadline.remaining_s))
        if before == image.build_id:
            return ProvisionReport(self.board_id, False, deadline.elapsed_s, before, before, None)
        self.close()  # the port goes away while the device resets
        image_path = image.path_for(self.flasher.image_suffixes)
        try:
            flash_report = self.flasher.flash(image_path, deadline.remaining_s, progress)
            self._restarted()
            after = self.wait_until_running(deadline.remaining_s)
        except HilError as error:
            # A provisioning that failed once stays failed for this run: later tests fail fast, saying why.
            self.mark_broken(f"provisioning failed: {type(error).__name__}: {error}")
            raise
        if after != image.build_id:
            raise ProvisionError(self.board_id, f"flashed build {image.build_id} but the board reports {after}")
        self.facts["flashed_with"] = self.flasher.name
        self.facts.update({f"version {tool}": version for tool, version in flash_report.tool_versions.items()})
        self.facts["flash"] = flash_report.as_dict()   # tool, steps, verified, bytes, host seconds: with the results
        return ProvisionReport(self.board_id, True, deadline.elapsed_s, before, after, self.flasher.name,
                               flash_report.as_dict())

    def wait_until_running(self, timeout_s: float = BOOT_TIMEOUT_S) -> str:
        """After a flash or reset: find the port again and wait until the firmware answers `id`."""
        deadline = Deadline(timeout_s)
        last_error: Exception | None = None
        reconnects_before = self.transport.reconnects
        while not deadline.expired:
            try:
                if not self.transport.is_open:
                    self.transport.open(deadline.remaining_s)
                return self.identify(min(IDENTIFY_TIMEOUT_S, max(deadline.remaining_s, 0.1))).build_id
            except BoardHalted:
                raise  # a firmware that panicked at boot will not answer by waiting longer
            except HilError as error:
                last_error = error
                self.close()
                halt = self.bench.halt_info(self.spec, timeout_s=max(deadline.remaining_s, HALT_QUERY_MIN_S))
                if halt:  # the bench can see the core stopped (emulator, debugger): say so now
                    self.set_state(BoardState.HALTED)
                    raise BoardHalted(self.board_id, halt.get("reason", "halted"), halt.get("pc"),
                                      halt.get("message", "")) from None
                deadline.sleep(0.05)
        port_losses = self.transport.reconnects - reconnects_before
        loop = (f" (its serial port went away and came back {port_losses} times meanwhile: a reset loop?)"
                if port_losses >= RESET_LOOP_PORT_LOSSES else "")
        raise ProvisionError(self.board_id, f"firmware did not answer within {seconds_text(timeout_s)} s after reset"
                                            f"{loop}: {last_error}")

    def reset(self, timeout_s: float = BOOT_TIMEOUT_S) -> None:
        """Hard reset by the gentlest means the board has that works in its state (probe reset, power cycle, RUN
        pin, picotool reboot) and wait for the firmware; the means used is recorded in the board's facts."""
        deadline = Deadline(timeout_s)
        halted = self.state == BoardState.HALTED
        usable = [means for means in self.recovery if means.works_when_halted or not halted]
        if not usable:
            raise ProvisionError(self.board_id, self.cannot_recover_reason() if halted else
                                 f"no means to reset: flash: {self.spec.flash_method} cannot, and the bench file "
                                 "gives it no probe, `power:` or `reset:`")
        self.close()
        usable[0].run(deadline.remaining_s)
        self.facts["reset_by"] = usable[0].name
        self._restarted()
        self.wait_until_running(deadline.remaining_s)

    def _restarted(self) -> None:
        """The firmware started over (flash, reset): whatever it said before no longer holds."""
        if self.state != BoardState.BROKEN:
            self.set_state(BoardState.UNKNOWN)
        self.last_panic = None
