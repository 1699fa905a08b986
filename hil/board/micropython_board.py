"""A Pico running MicroPython: code executed through the raw REPL with host-side deadlines, scripts deployed.

The raw REPL is driven on our own SerialTransport rather than through mpremote's, because every wait here needs
a deadline and a reason (mpremote's reads may block without a timeout and poll with sleeps, which would distort
the latency figures the lesson measures). File transfer is the deployer's job (mpremote as a library).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.board.board import Board, BoardState, ProvisionArtifacts
from hil.deadline import Deadline
from hil.errors import HilError, StepTimeout, WrongRuntime
from hil.transport.serial_log import SerialLog

CTRL_A = b"\x01"  # enter raw REPL
CTRL_B = b"\x02"  # leave raw REPL (friendly REPL)
CTRL_C = b"\x03"  # interrupt a running program
CTRL_D = b"\x04"  # end of input in raw REPL / soft reset
RAW_REPL_BANNER = "raw REPL; CTRL-B to exit\r\n>"
EOT = "\x04"
ENTER_TIMEOUT_S = 5.0
# Silence for less than this says nothing about the board (a step's own deadline was just short): only a wait at
# least this long, or an answer that is not the raw REPL's, is evidence that no MicroPython REPL is there.
NO_REPL_EVIDENCE_S = 0.5
EXEC_TIMEOUT_S = 10.0
INTERRUPT_TIMEOUT_S = 3.0
INTERRUPT_GRACE_S = 0.5        # after an exec timed out: the Ctrl-C answer must come within this
WRITE_CHUNK_BYTES = 256
# The end of a raw-REPL exec: stdout, EOT, stderr, EOT, the prompt. Program output may itself hold EOT bytes; the
# greedy stdout (anchored at the start) takes them, so only the last "EOT stderr EOT >" ends the answer.
EXEC_ANSWER = re.compile(r"\A(?P<stdout>.*)\x04(?P<stderr>[^\x04]*)\x04>", re.DOTALL)
TRACEBACK_LAST_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?$")
TRACEBACK_FILE_LINE = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


@dataclass
class MicroPythonException:
    type: str
    message: str
    file: str | None
    line: int | None
    traceback: str


@dataclass
class ExecResult:
    stdout: str
    stderr: str
    elapsed_s: float       # host clock, from sending the code to the end of its output

    @property
    def exception(self) -> MicroPythonException | None:
        return parse_traceback(self.stderr) if self.stderr.strip() else None


def parse_traceback(text: str) -> MicroPythonException | None:
    """The exception type, message and innermost file:line of a MicroPython traceback."""
    lines = [line.rstrip("\r") for line in text.strip().splitlines()]
    if not lines:
        return None
    last = TRACEBACK_LAST_LINE.match(lines[-1].strip())
    if not last:
        return None
    file = line = None
    for text_line in lines:
        where = TRACEBACK_FILE_LINE.match(text_line)
        if where:
            file, line = where["file"], int(where["line"])
    return MicroPythonException(last["type"], last["message"] or "", file, line, "\n".join(lines))


class MicroPythonBoard(Board):
    runtime = Runtime.MICROPYTHON

    def __init__(self, spec: BoardSpec, bench: Bench, deployer=None, log: SerialLog | None = None):
        super().__init__(spec, bench, log)
        self.deployer = deployer
        self.in_raw_repl = False

    def close(self) -> None:
        super().close()
        self.in_raw_repl = False

    def enter_raw_repl(self, timeout_s: float = ENTER_TIMEOUT_S) -> None:
        """Interrupt whatever runs and enter the raw REPL. WrongRuntime if no MicroPython REPL answers."""
        deadline = Deadline(timeout_s)
        self.open(deadline.remaining_s)
        self.transport.write(b"\r" + CTRL_C + CTRL_C)
        if self.state == BoardState.HALTED:
            self.set_state(BoardState.UNKNOWN)   # Ctrl-C is how a stuck interpreter is brought back
        self.transport.drain(quiet_s=0.05, timeout_s=min(1.0, deadline.remaining_s))
        self.transport.write(b"\r" + CTRL_A)
        try:
            self.transport.expect(re.escape(RAW_REPL_BANNER), deadline.remaining_s)
        except StepTimeout as error:
            if deadline.elapsed_s < NO_REPL_EVIDENCE_S:
                raise  # the caller's deadline ran out before the board could show what it is: not its fault
            seen = error.tail.decode("utf-8", "replace").strip()[-200:] or "nothing"
            raise WrongRuntime(self.board_id, "a MicroPython REPL", f"no raw REPL answer (received: {seen!r})",
                               "flash MicroPython for the Pico (a .uf2 from micropython.org) onto it") from None
        self.in_raw_repl = True
        self.set_state(BoardState.READY)

    def exec(self, code: str, timeout_s: float = EXEC_TIMEOUT_S) -> ExecResult:
        """Run `code` in the raw REPL; returns its stdout and stderr (the traceback, if it raised).

        On timeout the program is interrupted with Ctrl-C (as a person would) and StepTimeout is raised.
        """
        started_at = self.exec_start(code, timeout_s)
        return self.exec_wait(timeout_s, started_at)

    def exec_start(self, code: str, timeout_s: float = ENTER_TIMEOUT_S) -> float:
        """Send `code` and return once the board said OK (it is now running); its output follows on the link.

        Returns the host time it was sent, for exec_wait's elapsed time.
        """
        if not self.in_raw_repl:
            self.enter_raw_repl(min(ENTER_TIMEOUT_S, timeout_s))
        payload = code.encode("utf-8")
        started_at = time.monotonic()
        for offset in range(0, len(payload), WRITE_CHUNK_BYTES):
            self.transport.write(payload[offset:offset + WRITE_CHUNK_BYTES])
        self.transport.write(CTRL_D)
        try:
            # "OK" follows the raw REPL's prompt; a second prompt still on its way (a stale Ctrl-A's answer) may
            # come first, so the prompt is matched too rather than only the start of what is buffered.
            self.transport.expect("(?:^|>)OK", min(timeout_s, ENTER_TIMEOUT_S))
        except StepTimeout:
            self.in_raw_repl = False
            raise
        return started_at

    def exec_wait(self, timeout_s: float = EXEC_TIMEOUT_S, started_at: float | None = None) -> ExecResult:
        """Wait for the running code to finish: its remaining stdout, its stderr, and the prompt."""
        deadline = Deadline(timeout_s)
        try:
            answer = self.transport.expect(EXEC_ANSWER, deadline.remaining_s)
            stdout, stderr = answer.group("stdout"), answer.group("stderr")
        except StepTimeout:
            # Ctrl-C as a person would, but only briefly: the step's deadline has passed. A board that needs longer
            # is found again by the next enter_raw_repl (which interrupts and waits for the prompt itself).
            self.interrupt(INTERRUPT_GRACE_S)
            # The program's late output, or the answer to the Ctrl-C, may still be on its way: the next command
            # re-enters the raw REPL, which drains it, so it is never taken as that command's answer.
            self.in_raw_repl = False
            raise
        elapsed_s = time.monotonic() - started_at if started_at is not None else deadline.elapsed_s
        return ExecResult(stdout.replace("\r\n", "\n"), stderr.replace("\r\n", "\n"), elapsed_s)

    def eval(self, expression: str, timeout_s: float = EXEC_TIMEOUT_S) -> str:
        """repr() of `expression` evaluated on the board, as text (never evaluated on the host)."""
        result = self.exec(f"print(repr({expression}))", timeout_s)
        if result.stderr.strip():
            raise HilError(f"board {self.board_id!r}: eval of {expression!r} raised:\n{result.stderr.strip()}")
        return result.stdout.strip()

    def interrupt(self, timeout_s: float = INTERRUPT_TIMEOUT_S) -> bool:
        """Ctrl-C, then back to a raw REPL prompt. Returns False if the board did not come back."""
        self.transport.write(CTRL_C)
        try:
            self.transport.expect(f"{EOT}[^{EOT}]*{EOT}>", timeout_s)
            return True
        except HilError:
            self.in_raw_repl = False
            return False

    def soft_reset(self, timeout_s: float = ENTER_TIMEOUT_S) -> None:
        """Ctrl-D in the raw REPL: the interpreter restarts (boot.py runs) and the raw REPL comes back."""
        if not self.in_raw_repl:
            self.enter_raw_repl(timeout_s)
        self.transport.write(CTRL_D)
        self.transport.expect("soft reboot", timeout_s)
        self.transport.expect(re.escape(RAW_REPL_BANNER), timeout_s)

    def reset(self, timeout_s: float = ENTER_TIMEOUT_S) -> None:
        """Interrupt whatever runs and restart the interpreter (soft reset); returns at the raw REPL prompt."""
        deadline = Deadline(timeout_s)
        self.in_raw_repl = False
        self.enter_raw_repl(deadline.remaining_s)
        self.soft_reset(max(deadline.remaining_s, 0.1))

    def is_responsive(self, timeout_s: float = 2.0) -> bool:
        try:
            return self.exec("print(7 * 6)", timeout_s).stdout.strip() == "42"
        except HilError:
            self.in_raw_repl = False
            return False

    def provision(self, artifacts: ProvisionArtifacts, timeout_s: float,
                  progress: Callable[[str], None] | None = None):
        """Copy the (local path, board path) pairs whose content differs; the deployer soft-resets the board when
        it wrote something and checks the REPL answers. Returns the deployer's report."""
        self.ensure_usable()
        files = list(self._require("files to copy", artifacts.files))
        deadline = Deadline(timeout_s)
        self.close()  # the deployer opens the port itself (mpremote)
        try:
            port = self._locate_port(deadline.remaining_s)
            if artifacts.copy_with == "mpremote":
                report = self.deployer.copy_with_mpremote(port, files, deadline.remaining_s)
            else:
                report = self.deployer.deploy(port, files, deadline.remaining_s, progress=progress,
                                              soft_reset=artifacts.restart_after_copy, verify=artifacts.verify)
        except HilError as error:
            # A provisioning that failed once stays failed for this run: later tests fail fast, saying why.
            self.mark_broken(f"provisioning failed: {type(error).__name__}: {error}")
            raise
        if report.micropython:   # a plain mpremote copy does not ask
            self.facts["micropython"] = report.micropython
        self.facts["files_written"] = str(len(report.files_written))
        if self.state == BoardState.HALTED:
            self.set_state(BoardState.UNKNOWN)   # the deployer interrupted and restarted it
        self.set_state(BoardState.READY)
        return report
