"""Only evidence about a board marks it broken: a step deadline too short to enter the raw REPL is a timeout of the
step, not "not a MicroPython REPL"; and a late answer to a timed-out command is never taken as the next one's."""
from __future__ import annotations

import pytest

from hil.board.micropython_board import MicroPythonBoard
from hil.errors import StepTimeout, WrongRuntime
from tests.core.one_port_bench import OnePortBench
from tests.deploy.fake_micropython_board import FakeMicroPythonBoard

REPLY_DELAY_S = 0.3   # the fake board's turnaround: longer than the tiny deadlines below


def _board_on(fake: FakeMicroPythonBoard):
    bench = OnePortBench(fake.port)
    board = MicroPythonBoard(bench.specs[0], bench)
    yield board
    board.close()
    fake.close()


@pytest.fixture
def slow_board(tmp_path):
    yield from _board_on(FakeMicroPythonBoard(tmp_path / "board", reply_delay_s=REPLY_DELAY_S))


def test_a_deadline_too_short_to_enter_the_repl_is_a_timeout_not_a_wrong_runtime(slow_board):
    with pytest.raises(StepTimeout) as caught:
        slow_board.exec("print(1)", timeout_s=0.05)
    assert not isinstance(caught.value, WrongRuntime)
    assert slow_board.broken_reason is None
    assert slow_board.exec("print(6 * 7)", timeout_s=10).stdout.strip() == "42"


def test_a_late_answer_is_not_taken_as_the_next_commands_answer(slow_board):
    slow_board.enter_raw_repl(10)
    with pytest.raises(StepTimeout):
        slow_board.exec("print('late')", timeout_s=0.1)
    assert slow_board.exec("print('fresh')", timeout_s=10).stdout.strip() == "fresh"


@pytest.fixture
def board(tmp_path):
    yield from _board_on(FakeMicroPythonBoard(tmp_path / "board"))


def test_program_output_holding_the_raw_repl_end_byte_keeps_the_framing(board):
    result = board.exec("print('a\\x04b')\nraise ValueError('x')", timeout_s=10)
    assert result.stdout == "a\x04b\n"
    assert result.exception is not None and result.exception.type == "ValueError"
    assert board.exec("print(6 * 7)", timeout_s=10).stdout.strip() == "42"
