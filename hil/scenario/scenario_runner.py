"""Running a scenario's steps on boards, recording metrics and evidence as it goes.

Each step's failure becomes a StepFailed naming the file, line and step; a `skip_if` match becomes ScenarioSkip.
"""
from __future__ import annotations

import math
import re
import time
from typing import Callable

from hil.board.board import Board
from hil.board.micropython_board import ExecResult, MicroPythonBoard
from hil.board.rust_board import RustBoard
from hil.errors import BoardHalted, HilError, ScenarioSkip, StepFailed
from hil.results.metric import Metric
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_file import Scenario, Step
from hil.transport.user_pattern import search_within

PROVISION_TIMEOUT_S = 300.0
# Bound on matching a user's pattern against text already received (exec output, a panic or exception message).
TEXT_MATCH_TIMEOUT_S = 1.0
PAYLOAD_ALPHABET = bytes(range(0x41, 0x41 + 26))   # the lesson protocol's payload: A..Z repeated


def payload(size_bytes: int) -> bytes:
    repeats = size_bytes // len(PAYLOAD_ALPHABET) + 1
    return (PAYLOAD_ALPHABET * repeats)[:size_bytes]


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

    def states(self) -> dict[str, str]:
        return {role: board.state for role, board in self.boards.items()}

    # -- provisioning ---------------------------------------------------------------------------------------

    def provision(self, role: str, edit: bool = False, timeout_s: float = PROVISION_TIMEOUT_S) -> float:
        """Bring a board to the scenario's artifacts (skipping what is unchanged); returns host seconds."""
        spec = self.scenario.boards[role]
        board = self.boards[role]
        start = time.monotonic()
        if isinstance(board, RustBoard):
            image = self.artifacts.build(spec.firmware, edit=True)[0] if edit else self.artifacts.firmware(spec.firmware)
            report = board.provision(image, timeout_s)
            board.facts.update(build_id=report.build_id_after or "", flashed=str(report.flashed))
        else:
            files = self.artifacts.deploy_files(spec.deploy, edit=edit)
            board.provision(files, timeout_s, verify=spec.deploy_verify or None)
        return time.monotonic() - start

    # -- steps ----------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Metric]:
        for step in self.scenario.steps:
            start = time.monotonic()
            try:
                self._run_step(step)
            except (StepFailed, ScenarioSkip):
                raise
            except HilError as error:
                raise StepFailed(self.scenario.path, step.line, step.label, f"{type(error).__name__}: {error}") from error
            if step.record_elapsed:
                board_id = self.boards[step.on].board_id if step.on else None
                self.record(Metric(step.record_elapsed, round(time.monotonic() - start, 6), "s", "host", board_id))
        return self.metrics

    def _fail(self, step: Step, reason: str) -> None:
        raise StepFailed(self.scenario.path, step.line, step.label, reason)

    def _check_skip(self, step: Step, text: str) -> None:
        if step.skip_if is None:
            return
        match = search_within(step.skip_if, text, TEXT_MATCH_TIMEOUT_S)
        if match:
            reason = step.skip_reason or match.groupdict().get("reason") or match.group(0)
            raise ScenarioSkip(reason.strip())

    def _expect_text(self, step: Step, text: str, what: str) -> None:
        self._check_skip(step, text)
        if step.expect is None:
            return
        match = search_within(step.expect, text, TEXT_MATCH_TIMEOUT_S)
        if not match:
            self._fail(step, f"{what} {text.strip()[-300:]!r} does not match {step.expect.pattern!r}")
        self._record_match(step, match)

    def _expect_stream(self, step: Step, board: Board) -> None:
        """Wait for the step's regex in the board's output (a Rust PANIC line instead ends the wait at once)."""
        if step.expect is None:
            return
        # The pattern the scenario file compiled for this board's runtime: only whole lines, and a Rust PANIC line.
        match = board.transport.expect(step.expect_stream, step.timeout_s)
        if isinstance(board, RustBoard) and match.group("hil_panic"):
            board.state = "halted"
            self.on_evidence("panic", match.group("hil_panic"))
            self._fail(step, f"the board panicked: {match.group('hil_panic').strip()}")
        self._check_skip(step, match.group(0))
        self._record_match(step, match)

    def _expect_panic(self, step: Step, board: RustBoard) -> None:
        panic = board.expect_panic(step.timeout_s)
        self.on_evidence("panic", board.last_panic or "")
        wanted = step.raw.get("expect_panic") or {}
        for key in ("message", "location"):
            if key in wanted and not search_within(step.message_patterns[f"expect_panic.{key}"], panic.get(key) or "",
                                                   TEXT_MATCH_TIMEOUT_S):
                self._fail(step, f"panic {key} {panic.get(key)!r} does not match {wanted[key]!r}")
        if panic.get("halt"):
            self.on_evidence("halt", str(panic["halt"]))

    def _check_exec(self, step: Step, result: ExecResult) -> None:
        if result.stderr.strip():
            self.on_evidence("traceback", result.stderr.strip())
        wanted = step.raw.get("expect_exception")
        exception = result.exception
        if wanted is not None:
            if exception is None:
                self._fail(step, f"expected {wanted.get('type', 'an exception')}, but the code raised nothing "
                                 f"(stdout {result.stdout.strip()[-200:]!r})")
            if "type" in wanted and exception.type != wanted["type"]:
                self._fail(step, f"expected {wanted['type']}, got {exception.type}: {exception.message}")
            if "message" in wanted and not search_within(step.message_patterns["expect_exception.message"],
                                                         exception.message, TEXT_MATCH_TIMEOUT_S):
                self._fail(step, f"exception message {exception.message!r} does not match {wanted['message']!r}")
            if "line" in wanted and exception.line != wanted["line"]:
                self._fail(step, f"exception at line {exception.line}, expected line {wanted['line']}")
            if "file" in wanted and exception.file != wanted["file"]:
                self._fail(step, f"exception in {exception.file!r}, expected {wanted['file']!r}")
        elif result.stderr.strip():
            self._fail(step, f"the code raised:\n{result.stderr.strip()[-800:]}")
        self._expect_text(step, result.stdout, "output")

    def _run_step(self, step: Step) -> None:
        action = step.action
        board = self.boards.get(step.on) if step.on else None
        if action == "wait_s":
            time.sleep(float(step.argument))
        elif action == "build":
            image, elapsed_s, rebuilt = self.artifacts.build(step.argument, edit=bool(step.raw.get("edit")))
            self.on_evidence(f"build-{step.argument}", f"build {image.build_id} rebuilt={rebuilt} in {elapsed_s:.2f} s")
        elif action == "provision":
            self.provision(step.on, edit=bool(step.raw.get("edit")), timeout_s=step.timeout_s)
        elif action == "send":
            board.open(step.timeout_s)
            board.transport.write(str(step.argument))
            if "expect_panic" in step.raw:
                self._expect_panic(step, board)
            else:
                self._expect_stream(step, board)
        elif action == "command":
            if "expect_panic" in step.raw:
                board.open(step.timeout_s)
                board.transport.write(str(step.argument).rstrip("\n") + "\n")
                self._expect_panic(step, board)
                return
            try:
                match = board.command(str(step.argument), step.timeout_s)
            except BoardHalted as halted:
                self.on_evidence("panic", halted.message)
                raise
            self._expect_text(step, match.group(0), "answer")
        elif action == "expect":
            board.open(step.timeout_s)
            self._expect_stream(step, board)
        elif action == "expect_panic":
            self._expect_panic(step, board)
        elif action == "exec":
            self._check_exec(step, board.exec(str(step.argument), step.timeout_s))
        elif action == "exec_start":
            board.exec_start(str(step.argument), step.timeout_s)
        elif action == "exec_wait":
            self._check_exec(step, board.exec_wait(step.timeout_s))
        elif action == "eval":
            self._expect_text(step, board.eval(str(step.argument), step.timeout_s), "value")
        elif action == "check":
            self._check(step, board)
        elif action == "reset":
            board.reset(step.timeout_s)
        elif action == "soft_reset":
            board.soft_reset(step.timeout_s)
        elif action == "interrupt":
            if not board.interrupt(step.timeout_s):
                self._fail(step, "the board did not come back to the prompt after Ctrl-C")
        elif action == "read_bytes":
            size_bytes = int(step.argument)
            start = time.monotonic()
            data = board.transport.read_exactly(size_bytes, step.timeout_s)
            elapsed_s = time.monotonic() - start
            if data != payload(size_bytes):
                self._fail(step, f"received {size_bytes} bytes that differ from the expected payload "
                                 f"(first bytes {data[:40]!r})")
            self._record_rate(step, board, size_bytes, elapsed_s)
        elif action == "write_bytes":
            # Writing returns once the bytes are in the host's buffers; with `expect` the clock runs until the
            # board confirms it received them, which is what a throughput figure has to mean.
            size_bytes = int(step.argument)
            start = time.monotonic()
            board.transport.write(payload(size_bytes), timeout_s=step.timeout_s)
            self._expect_stream(step, board)
            self._record_rate(step, board, size_bytes, time.monotonic() - start)
        else:  # the loader only lets known actions through
            self._fail(step, f"unknown action {action!r}")

    def _record_rate(self, step: Step, board: Board, size_bytes: int, elapsed_s: float) -> None:
        if step.record_rate:
            rate = size_bytes / elapsed_s if elapsed_s > 0 else float("inf")
            self.record(Metric(step.record_rate, round(rate, 1), "bytes/s", "host", board.board_id))

    def _check(self, step: Step, board: Board) -> None:
        wanted = step.argument
        if isinstance(board, MicroPythonBoard):
            responsive = board.is_responsive(step.timeout_s)
        else:
            responsive = board.is_responsive(step.timeout_s)
            if not responsive:
                halt = board.wait_halt_info(timeout_s=min(1.0, step.timeout_s))
                if halt:
                    self.on_evidence("halt", str(halt))
                board.state = "halted"
        if wanted == "responsive" and not responsive:
            self._fail(step, "the board does not answer")
        if wanted == "halted" and responsive:
            self._fail(step, "the board still answers; expected it halted")
