"""Running a scenario's steps on boards, recording metrics and evidence as it goes.

Each step is a typed action (hil/scenario/steps.py) that uses the board's capabilities; this module holds what
the actions share: matching and recording, failing with file:line, skipping. Each step's failure becomes a
StepFailed naming the file, line and step; a `skip_if` match becomes ScenarioSkip.
"""
from __future__ import annotations

import math
import re
import time
from typing import Callable

from hil.board.board import Board, ProvisionArtifacts
from hil.board.micropython_board import ExecResult
from hil.deadline import Deadline
from hil.errors import BoardHalted, HilError, ScenarioSkip, StepFailed
from hil.results.metric import Metric
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_file import Scenario, Step
from hil.scenario.steps import ExceptionExpectation, PanicExpectation, typed_step
from hil.transport.user_pattern import search_within

PROVISION_TIMEOUT_S = 300.0
# Bound on matching a user's pattern against text already received (exec output, a panic or exception message),
# within what is left of the step's own deadline: a slow pattern never stretches a step by more than this.
TEXT_MATCH_TIMEOUT_S = 1.0


def _number(text: str):
    for convert in (int, float):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            continue
        # "nan" or "inf" from a board is not a figure: kept as text, so no comparison passes and results stay JSON.
        return value if math.isfinite(value) else text
    if isinstance(text, str) and text.lower().startswith("0x"):
        try:
            return int(text, 16)
        except ValueError:
            pass
    return text


class ScenarioRunner:
    def __init__(self, scenario: Scenario, boards: dict[str, Board], artifacts: Artifacts,
                 on_metric: Callable[[Metric], None], on_evidence: Callable[[str, str], None]):
        self.scenario = scenario
        self.boards = boards
        self.artifacts = artifacts
        self.on_metric = on_metric
        self.on_evidence = on_evidence
        self.metrics: dict[str, Metric] = {}
        self.actions = [typed_step(step) for step in scenario.steps]
        self._step_deadline = Deadline(TEXT_MATCH_TIMEOUT_S)   # replaced by each step's own as it starts

    # -- recording ------------------------------------------------------------------------------------------

    def record(self, metric: Metric) -> None:
        self.metrics[metric.name] = metric
        self.on_metric(metric)

    def _clock(self, step: Step, clock: str) -> str:
        if clock == "device":
            return self.boards[step.on].device_clock_domain
        return clock

    def _record_match(self, step: Step, match: re.Match) -> None:
        board_id = self.boards[step.on].board_id if step.on else None
        for spec in step.records:
            value = match.group(spec.group)
            if value is None:
                raise StepFailed(self.scenario.path, step.line, step.label, f"group {spec.group!r} matched nothing")
            self.record(Metric(spec.metric, _number(value), spec.unit, self._clock(step, spec.clock), board_id))

    def record_rate(self, step: Step, board: Board, size_bytes: int, elapsed_s: float) -> None:
        if step.record_rate:
            rate = size_bytes / elapsed_s if elapsed_s > 0 else float("inf")
            self.record(Metric(step.record_rate, round(rate, 1), "bytes/s", "host", board.board_id))

    def states(self) -> dict[str, str]:
        return {role: board.state.value for role, board in self.boards.items()}

    # -- provisioning ---------------------------------------------------------------------------------------

    def artifacts_for(self, role: str, edit: bool = False, copy_with: str = "deployer") -> ProvisionArtifacts:
        """What the scenario says the role's board runs: its firmware and/or its files (after an edit if asked).
        With copy_with="mpremote" and an edit, only the edited file is copied, as a reader would copy it."""
        spec = self.scenario.boards[role]
        firmware = None
        if spec.firmware:
            if edit:
                firmware = self.artifacts.build(spec.firmware, edit=True, features=spec.features)[0]
            else:
                firmware = self.artifacts.firmware(spec.firmware, spec.features)
        files = tuple(self.artifacts.deploy_files(spec.deploy, edit=edit)) if spec.deploy else ()
        if copy_with == "mpremote" and edit:
            files = tuple(f for f in files if self.artifacts.is_edit_module(f[1]))
        # deploy_verify in the scenario forces a full check; otherwise the bench file's setting holds
        return ProvisionArtifacts(firmware=firmware, files=files, verify=spec.deploy_verify or None,
                                  copy_with=copy_with)

    def provision(self, role: str, edit: bool = False, timeout_s: float = PROVISION_TIMEOUT_S,
                  copy_with: str = "deployer") -> float:
        """Bring a board to the scenario's artifacts (skipping what is unchanged, unless copied with mpremote);
        returns host seconds."""
        start = time.monotonic()
        self.boards[role].provision(self.artifacts_for(role, edit, copy_with), timeout_s)
        return time.monotonic() - start

    # -- steps ----------------------------------------------------------------------------------------------

    def check_panics_recoverable(self) -> None:
        """ScenarioSkip, before any step runs, if a step would panic a board that nothing can bring back."""
        for step in self.scenario.steps:
            board = self.boards.get(step.on) if step.on else None
            if board is not None and ("expect_panic" in step.raw or step.action == "expect_panic"):
                reason = board.cannot_recover_reason()
                if reason:
                    raise ScenarioSkip(f"{reason}; not panicking it (step at line {step.line})")

    def run(self) -> dict[str, Metric]:
        self.check_panics_recoverable()
        for action in self.actions:
            step = action.step
            start = time.monotonic()
            self._step_deadline = Deadline(step.timeout_s)
            try:
                action.run(self)
            except (StepFailed, ScenarioSkip):
                raise
            except HilError as error:
                raise StepFailed(self.scenario.path, step.line, step.label, f"{type(error).__name__}: {error}") from error
            if step.record_elapsed:
                board_id = self.boards[step.on].board_id if step.on else None
                self.record(Metric(step.record_elapsed, round(time.monotonic() - start, 6), "s", "host", board_id))
        return self.metrics

    def _match_timeout_s(self) -> float:
        """What matching text may take now: the step's remaining time, at most TEXT_MATCH_TIMEOUT_S (the regex
        package still gets its minimum, so a pattern is never refused before it is tried)."""
        return min(TEXT_MATCH_TIMEOUT_S, self._step_deadline.remaining_s)

    def fail(self, step: Step, reason: str) -> None:
        raise StepFailed(self.scenario.path, step.line, step.label, reason)

    def _check_skip(self, step: Step, text: str) -> None:
        if step.skip_if is None:
            return
        match = search_within(step.skip_if, text, self._match_timeout_s())
        if match:
            reason = step.skip_reason or match.groupdict().get("reason") or match.group(0)
            raise ScenarioSkip(reason.strip())

    def expect_text(self, step: Step, text: str, what: str) -> None:
        self._check_skip(step, text)
        if step.expect is None:
            return
        match = search_within(step.expect, text, self._match_timeout_s())
        if not match:
            self.fail(step, f"{what} {text.strip()[-300:]!r} does not match {step.expect.pattern!r}")
        self._record_match(step, match)

    def expect_stream(self, step: Step, board: Board) -> None:
        """Wait for the step's regex in the board's output (a line the runtime declares fatal, e.g. a Rust
        PANIC, ends the wait at once)."""
        if step.expect is None:
            return
        # The pattern the scenario file compiled and checked for this board's runtime: only whole lines.
        try:
            match = board.expect(step.expect_stream, step.timeout_s)
        except BoardHalted as halted:
            self.on_evidence("panic", halted.message)
            self.fail(step, f"the board panicked: {halted.message}")
        self._check_skip(step, match.group(0))
        self._record_match(step, match)

    def expect_panic(self, step: Step, board, wanted: PanicExpectation) -> None:
        panic = board.expect_panic(step.timeout_s)
        self.on_evidence("panic", board.last_panic or "")
        for key in ("message", "location"):
            pattern = getattr(wanted, key)
            if pattern is not None and not search_within(pattern, panic.get(key) or "", self._match_timeout_s()):
                self.fail(step, f"panic {key} {panic.get(key)!r} does not match {pattern.pattern!r}")
        if panic.get("halt"):
            self.on_evidence("halt", str(panic["halt"]))

    def check_exec(self, step: Step, result: ExecResult, wanted: ExceptionExpectation | None) -> None:
        if result.stderr.strip():
            self.on_evidence("traceback", result.stderr.strip())
        exception = result.exception
        if wanted is not None:
            if exception is None:
                self.fail(step, f"expected {wanted.type or 'an exception'}, but the code raised nothing "
                                f"(stdout {result.stdout.strip()[-200:]!r})")
            if wanted.type is not None and exception.type != wanted.type:
                self.fail(step, f"expected {wanted.type}, got {exception.type}: {exception.message}")
            if wanted.message is not None and not search_within(wanted.message, exception.message,
                                                                     self._match_timeout_s()):
                self.fail(step, f"exception message {exception.message!r} does not match {wanted.message.pattern!r}")
            if wanted.line is not None and exception.line != wanted.line:
                self.fail(step, f"exception at line {exception.line}, expected line {wanted.line}")
            if wanted.file is not None and exception.file != wanted.file:
                self.fail(step, f"exception in {exception.file!r}, expected {wanted.file!r}")
        elif result.stderr.strip():
            self.fail(step, f"the code raised:\n{result.stderr.strip()[-800:]}")
        self.expect_text(step, result.stdout, "output")
