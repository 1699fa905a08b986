"""A flashing tool failed in a way the framework recognises: the error says what happened and what to do."""
from __future__ import annotations

from hil.deploy.tool_output import PROBLEM_ADVICE, classify_problem, error_message
from hil.errors import HilError, ProvisionError, ToolFailed


class FlashFailed(ProvisionError):
    """`problem` is one of tool_output.PROBLEM_*; `cause` is the tool error underneath."""

    def __init__(self, board_id: str, flasher: str, problem: str | None, advice: str, cause: HilError):
        self.flasher = flasher
        self.problem = problem
        self.cause = cause
        super().__init__(board_id, f"{flasher}: {advice}")

    @classmethod
    def from_tool_failure(cls, board_id: str, flasher: str, error: ToolFailed) -> "FlashFailed | ToolFailed":
        """FlashFailed with advice if the tool's output shows a known problem, else the ToolFailed itself."""
        output = f"{error.stdout}\n{error.stderr}"
        problem = classify_problem(output)
        if problem is None:
            return error
        return cls(board_id, flasher, problem,
                   f"{PROBLEM_ADVICE[problem]}; the tool said: {error_message(output)}", error)
