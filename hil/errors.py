"""Error types of the framework.

Raised in the library, turned into messages only at the edges (the `hil` CLI and the pytest report).
Every error carries what a user needs to act on it: the file and line, the board, the command line,
the tail of what a board sent and where the full log is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence


def seconds_text(seconds: float) -> str:
    """A duration for a message, to 10 ms: a deadline's remaining 1.99999 s reads as the 2 s it was given."""
    return f"{round(seconds, 2):g}"


class HilError(Exception):
    """Base of every error the framework raises on purpose."""


class ConfigError(HilError):
    """A bench file, scenario file or option is wrong. Names the file, the line and the offending key."""

    def __init__(self, path: str | Path, line: int | None, key: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ToolMissing(HilError):
    """An external tool (probe-rs, picotool, node, cargo, ...) is not on PATH."""

    def __init__(self, tool: str, install_hint: str = ""):
        self.tool = tool
        self.install_hint = install_hint
        hint = f" (install: {install_hint})" if install_hint else ""
        super().__init__(f"{tool}: not found on PATH{hint}")


def _tail_text(data: str | bytes, limit_chars: int = 800) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit_chars else "..." + text[-limit_chars:]


class ToolFailed(HilError):
    """An external tool exited with a non-zero code."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = _tail_text(stderr.strip() or stdout.strip())
        super().__init__(f"{' '.join(self.argv)} exited with code {returncode}: {detail}")


class ToolTimeout(HilError):
    """An external tool did not finish within its deadline; its whole process group was killed."""

    def __init__(self, argv: Sequence[str], timeout_s: float, stdout: str, stderr: str):
        self.argv = list(argv)
        self.timeout_s = timeout_s
        self.stdout = stdout
        self.stderr = stderr
        detail = _tail_text(stderr.strip() or stdout.strip(), 400)
        super().__init__(
            f"{' '.join(self.argv)} did not finish within {seconds_text(timeout_s)} s and was killed"
            + (f"; last output: {detail}" if detail else "")
        )


class InvalidTimeout(HilError, ValueError):
    """A deadline was asked for with a figure that is not a finite, non-negative number of seconds."""

    def __init__(self, what: str, value: object, problem: str):
        self.what = what
        self.value = value
        self.problem = problem
        super().__init__(f"{what}: {value!r} {problem}")


class DeadlineExpired(HilError):
    """A host-side deadline ran out while waiting for something."""

    def __init__(self, what: str, timeout_s: float):
        self.what = what
        self.timeout_s = timeout_s
        super().__init__(f"{what}: not done within {seconds_text(timeout_s)} s")


class BoardNotFound(HilError):
    """A board named in the bench is not attached (or its port did not come back in time)."""

    def __init__(self, board_id: str, detail: str):
        self.board_id = board_id
        self.detail = detail
        super().__init__(f"board {board_id!r}: {detail}")


class PortVanished(HilError):
    """The serial port of a board disappeared and did not reappear within the deadline."""

    def __init__(self, port: str, board_id: str | None, timeout_s: float):
        self.port = port
        self.board_id = board_id
        self.timeout_s = timeout_s
        who = f"board {board_id!r} " if board_id else ""
        super().__init__(f"{who}serial port {port} disappeared and did not come back within "
                         f"{seconds_text(timeout_s)} s")


class PatternTooSlow(HilError):
    """A scenario's regex did not finish matching within the step's deadline (catastrophic backtracking)."""

    def __init__(self, pattern: str, text_chars: int, timeout_s: float):
        self.pattern = pattern
        self.timeout_s = timeout_s
        super().__init__(f"regex {pattern!r} did not finish matching {text_chars} characters within "
                         f"{seconds_text(timeout_s)} s "
                         f"(it backtracks: make its repeats unambiguous, e.g. (a+)+ -> a+)")


class StepTimeout(HilError):
    """`expect` did not see its pattern in time. Shows the pattern, the tail received, and the log path."""

    def __init__(self, pattern: str, tail: bytes, log_path: str | Path | None, timeout_s: float,
                 board_id: str | None = None):
        self.pattern = pattern
        self.tail = tail
        self.log_path = str(log_path) if log_path else None
        self.timeout_s = timeout_s
        self.board_id = board_id
        who = f"board {board_id!r}: " if board_id else ""
        shown = tail.decode("utf-8", "backslashreplace") if tail else "(nothing)"
        log = f"\nfull log: {self.log_path}" if self.log_path else ""
        super().__init__(
            f"{who}pattern {pattern!r} not seen within {seconds_text(timeout_s)} s\nlast bytes received:\n{shown}{log}"
        )


class GarbledSerial(HilError):
    """The board sent bytes that cannot be what the protocol allows (wrong baud, noise, another device)."""

    def __init__(self, board_id: str | None, detail: str, sample: bytes, log_path: str | Path | None = None):
        self.board_id = board_id
        self.sample = sample
        self.log_path = str(log_path) if log_path else None
        who = f"board {board_id!r}: " if board_id else ""
        log = f" (full log: {self.log_path})" if self.log_path else ""
        super().__init__(f"{who}{detail}: {sample[-120:]!r}{log}")


class BoardHalted(HilError):
    """A board stopped running (panic, HardFault, lockup) when it was expected to answer."""

    def __init__(self, board_id: str, reason: str, pc: int | None = None, message: str = ""):
        self.board_id = board_id
        self.reason = reason
        self.pc = pc
        self.message = message
        at = f" at PC 0x{pc:08x}" if pc is not None else ""
        extra = f": {message}" if message else ""
        super().__init__(f"board {board_id!r} halted ({reason}){at}{extra}")


class BoardBroken(HilError):
    """A board failed once in a way that makes later use pointless; later tests fail fast with the first reason."""

    def __init__(self, board_id: str, reason: str):
        self.board_id = board_id
        self.reason = reason
        super().__init__(f"board {board_id!r} is marked broken earlier in this run: {reason}")


class BoardStateError(HilError):
    """A board was asked to make a state transition it may not make (e.g. halted -> ready without a reset)."""

    def __init__(self, board_id: str, state: str, wanted: str):
        self.board_id = board_id
        self.state = state
        self.wanted = wanted
        super().__init__(f"board {board_id!r}: cannot go from {state} to {wanted}")


class WrongRuntime(HilError):
    """A board runs something other than what the bench says (e.g. no MicroPython REPL)."""

    def __init__(self, board_id: str, expected: str, found: str, hint: str = ""):
        self.board_id = board_id
        self.expected = expected
        self.found = found
        super().__init__(f"board {board_id!r}: expected {expected}, found {found}" + (f". {hint}" if hint else ""))


class ProvisionError(HilError):
    """Flashing or deploying to a board failed for a reason that is not a tool's exit code."""

    def __init__(self, board_id: str, message: str):
        self.board_id = board_id
        super().__init__(f"board {board_id!r}: {message}")


class BoardBusy(HilError):
    """No board of the needed kind became free within the deadline (all locked by other workers)."""

    def __init__(self, what: str, timeout_s: float, holders: str = ""):
        super().__init__(f"no free board for {what} within {seconds_text(timeout_s)} s"
                         + (f" ({holders})" if holders else ""))


class ResultsNotWritable(HilError):
    """The results folder or file cannot be written."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        super().__init__(f"cannot write results to {path}: {reason}")


class StepFailed(HilError):
    """A scenario step did not do what the scenario says. Names the file, the line and the step."""

    def __init__(self, path: str | Path, line: int, step: str, reason: str):
        self.path = str(path)
        self.line = line
        self.step = step
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {step}: {reason}")


class ScenarioSkip(HilError):
    """The bench cannot judge this claim (a missing module, a heap that grows on demand...): skip, saying why."""


class ToolTooOld(HilError):
    """A tool is installed but older than the output format and options this framework relies on."""

    def __init__(self, tool: str, found: str, needed: str, why: str = ""):
        self.tool, self.found, self.needed = tool, found, needed
        super().__init__(f"{tool}: found version {found}, version {needed} or newer is needed"
                         + (f" ({why})" if why else ""))
