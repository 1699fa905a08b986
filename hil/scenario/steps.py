"""The scenario's steps as typed classes: one class per action, built once from the loaded step.

The runner calls `action.run(runner)`; each class says what its action does with the board's capabilities (its
console, provisioning, reset, responsiveness). No step asks which class of board it has: the scenario loader
has already checked that the role's runtime can do the action.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from hil.errors import BoardHalted
from hil.scenario.scenario_file import Step
from hil.transport.user_pattern import Pattern

if TYPE_CHECKING:   # the runner imports this module
    from hil.scenario.scenario_runner import ScenarioRunner

PAYLOAD_ALPHABET = bytes(range(0x41, 0x41 + 26))   # the lesson protocol's payload: A..Z repeated


def payload(size_bytes: int) -> bytes:
    repeats = size_bytes // len(PAYLOAD_ALPHABET) + 1
    return (PAYLOAD_ALPHABET * repeats)[:size_bytes]


@dataclass(frozen=True)
class PanicExpectation:
    message: Pattern | None = None     # regexes the panic's message / file:line must match (compiled by the loader)
    location: Pattern | None = None


@dataclass(frozen=True)
class ExceptionExpectation:
    type: str | None = None
    message: Pattern | None = None     # compiled by the loader
    line: int | None = None
    file: str | None = None


@dataclass(frozen=True)
class StepAction:
    action: ClassVar[str]
    step: Step

    @classmethod
    def from_step(cls, step: Step) -> "StepAction":
        return cls(step)

    def run(self, runner: "ScenarioRunner") -> None:
        raise NotImplementedError

    def board(self, runner: "ScenarioRunner"):
        return runner.boards[self.step.on]


def _panic_expectation(step: Step) -> PanicExpectation | None:
    if "expect_panic" not in step.raw:
        return None
    return PanicExpectation(step.message_patterns.get("expect_panic.message"),
                            step.message_patterns.get("expect_panic.location"))


@dataclass(frozen=True)
class WaitS(StepAction):
    action = "wait_s"

    def run(self, runner):
        time.sleep(float(self.step.argument))


@dataclass(frozen=True)
class Build(StepAction):
    action = "build"

    def run(self, runner):
        name = str(self.step.argument)
        image, elapsed_s, rebuilt = runner.artifacts.build(name, edit=bool(self.step.raw.get("edit")))
        runner.on_evidence(f"build-{name}", f"build {image.build_id} rebuilt={rebuilt} in {elapsed_s:.2f} s")


@dataclass(frozen=True)
class Provision(StepAction):
    action = "provision"

    def run(self, runner):
        runner.provision(self.step.on, edit=bool(self.step.raw.get("edit")), timeout_s=self.step.timeout_s,
                         copy_with=self.step.raw.get("copy_with", "deployer"))


@dataclass(frozen=True)
class MayPanic(StepAction):
    """A console step that may instead expect the board to panic (its step has `expect_panic`)."""

    panic: PanicExpectation | None = None

    @classmethod
    def from_step(cls, step):
        return cls(step, _panic_expectation(step))


@dataclass(frozen=True)
class Send(MayPanic):
    """Write text to the console, then wait for the expected line (or a panic, with expect_panic)."""

    action = "send"

    def run(self, runner):
        board = self.board(runner)
        board.write(str(self.step.argument), self.step.timeout_s)
        if self.panic is not None:
            runner.expect_panic(self.step, board, self.panic)
        else:
            runner.expect_stream(self.step, board)


@dataclass(frozen=True)
class Command(MayPanic):
    """One line of the firmware's protocol and its final OK/ERR answer."""

    action = "command"

    def run(self, runner):
        board = self.board(runner)
        if self.panic is not None:
            board.write(str(self.step.argument).rstrip("\n") + "\n", self.step.timeout_s)
            runner.expect_panic(self.step, board, self.panic)
            return
        try:
            match = board.command(str(self.step.argument), self.step.timeout_s)
        except BoardHalted as halted:
            runner.on_evidence("panic", halted.message)
            raise
        runner.expect_text(self.step, match.group(0), "answer")


@dataclass(frozen=True)
class Expect(StepAction):
    action = "expect"

    def run(self, runner):
        runner.expect_stream(self.step, self.board(runner))


@dataclass(frozen=True)
class ExpectPanic(StepAction):
    action = "expect_panic"
    panic: PanicExpectation = PanicExpectation()

    @classmethod
    def from_step(cls, step):
        return cls(step, _panic_expectation(step) or PanicExpectation())

    def run(self, runner):
        runner.expect_panic(self.step, self.board(runner), self.panic)


def _exception_expectation(step: Step) -> ExceptionExpectation | None:
    wanted = step.raw.get("expect_exception")
    if wanted is None:
        return None
    return ExceptionExpectation(wanted.get("type"), step.message_patterns.get("expect_exception.message"),
                                wanted.get("line"), wanted.get("file"))


@dataclass(frozen=True)
class Exec(StepAction):
    action = "exec"
    exception: ExceptionExpectation | None = None

    @classmethod
    def from_step(cls, step):
        return cls(step, _exception_expectation(step))

    def run(self, runner):
        runner.check_exec(self.step, self.board(runner).exec(str(self.step.argument), self.step.timeout_s),
                          self.exception)


@dataclass(frozen=True)
class ExecStart(StepAction):
    action = "exec_start"

    def run(self, runner):
        self.board(runner).exec_start(str(self.step.argument), self.step.timeout_s)


@dataclass(frozen=True)
class ExecWait(Exec):
    action = "exec_wait"

    def run(self, runner):
        runner.check_exec(self.step, self.board(runner).exec_wait(self.step.timeout_s), self.exception)


@dataclass(frozen=True)
class Eval(StepAction):
    action = "eval"

    def run(self, runner):
        value = self.board(runner).eval(str(self.step.argument), self.step.timeout_s)
        runner.expect_text(self.step, value, "value")


@dataclass(frozen=True)
class Check(StepAction):
    """`check: responsive | halted`: does the board answer? A board that does not is halted until a reset."""

    action = "check"

    def run(self, runner):
        board = self.board(runner)
        wanted = self.step.argument
        responsive = board.is_responsive(self.step.timeout_s)
        if not responsive:
            halt = board.halt_report(min(1.0, self.step.timeout_s))
            if halt:
                runner.on_evidence("halt", str(halt))
            board.note_unresponsive(halt)
        if wanted == "responsive" and not responsive:
            runner.fail(self.step, "the board does not answer")
        if wanted == "halted" and responsive:
            runner.fail(self.step, "the board still answers; expected it halted")


@dataclass(frozen=True)
class Reset(StepAction):
    action = "reset"

    def run(self, runner):
        self.board(runner).reset(self.step.timeout_s)


@dataclass(frozen=True)
class SoftReset(StepAction):
    action = "soft_reset"

    def run(self, runner):
        self.board(runner).soft_reset(self.step.timeout_s)


@dataclass(frozen=True)
class Interrupt(StepAction):
    action = "interrupt"

    def run(self, runner):
        if not self.board(runner).interrupt(self.step.timeout_s):
            runner.fail(self.step, "the board did not come back to the prompt after Ctrl-C")


@dataclass(frozen=True)
class ReadBytes(StepAction):
    """Read the lesson payload the board sends; its rate is timed on the host clock."""

    action = "read_bytes"

    def run(self, runner):
        board = self.board(runner)
        size_bytes = int(self.step.argument)
        start = time.monotonic()
        data = board.read_exactly(size_bytes, self.step.timeout_s)
        elapsed_s = time.monotonic() - start
        if data != payload(size_bytes):
            runner.fail(self.step, f"received {size_bytes} bytes that differ from the expected payload "
                                   f"(first bytes {data[:40]!r})")
        runner.record_rate(self.step, board, size_bytes, elapsed_s)


@dataclass(frozen=True)
class WriteBytes(StepAction):
    action = "write_bytes"

    def run(self, runner):
        # Writing returns once the bytes are in the host's buffers; with `expect` the clock runs until the
        # board confirms it received them, which is what a throughput figure has to mean.
        board = self.board(runner)
        size_bytes = int(self.step.argument)
        start = time.monotonic()
        board.write(payload(size_bytes), self.step.timeout_s)
        runner.expect_stream(self.step, board)
        runner.record_rate(self.step, board, size_bytes, time.monotonic() - start)


STEP_CLASSES: dict[str, type[StepAction]] = {cls.action: cls for cls in (
    WaitS, Build, Provision, Send, Command, Expect, ExpectPanic, Exec, ExecStart, ExecWait, Eval, Check, Reset,
    SoftReset, Interrupt, ReadBytes, WriteBytes)}


def typed_step(step: Step) -> StepAction:
    """The typed step for a loaded one (the loader lets only known actions through)."""
    return STEP_CLASSES[step.action].from_step(step)
