"""`mpremote repl` against the simulated Pico, typed and read through a terminal (tmux send-keys /
capture-pane) as a person would use it."""
from __future__ import annotations

import shutil
import time

import pytest

from hil.deadline import Deadline
from hil.process import run_tool
from tests.sim_micropython.conftest import MPREMOTE

TMUX_TIMEOUT_S = 10.0
SCREEN_TIMEOUT_S = 10.0
POLL_S = 0.1

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A detached tmux session on its own server socket, running one command."""

    def __init__(self, socket_name: str, command: list[str]):
        self.base = ["tmux", "-L", socket_name]
        run_tool([*self.base, "new-session", "-d", "-s", "repl", "-x", "120", "-y", "40", *command],
                 TMUX_TIMEOUT_S)

    def keys(self, *keys: str) -> None:
        run_tool([*self.base, "send-keys", "-t", "repl", *keys], TMUX_TIMEOUT_S)

    def screen(self) -> str:
        result = run_tool([*self.base, "capture-pane", "-p", "-t", "repl"], TMUX_TIMEOUT_S, check=False)
        return result.stdout if result.returncode == 0 else ""

    def wait_for(self, text: str, timeout_s: float = SCREEN_TIMEOUT_S) -> str:
        deadline = Deadline(timeout_s)
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if deadline.expired:
                raise AssertionError(f"{text!r} not on the screen within {timeout_s:g} s:\n{screen}")
            time.sleep(POLL_S)

    def session_alive(self) -> bool:
        return run_tool([*self.base, "has-session", "-t", "repl"], TMUX_TIMEOUT_S, check=False).returncode == 0

    def kill(self) -> None:
        run_tool([*self.base, "kill-server"], TMUX_TIMEOUT_S, check=False)


@pytest.fixture
def terminal(sim, tmp_path):
    started = Terminal(f"hil-mpy-{tmp_path.name}", [str(MPREMOTE), "connect", sim.ports[0], "repl"])
    yield started
    started.kill()


def test_repl_evaluates_what_is_typed(terminal):
    terminal.wait_for("Use Ctrl-] or Ctrl-x to exit this shell")
    terminal.keys("Enter")
    terminal.wait_for(">>>")  # capture-pane drops trailing spaces
    terminal.keys("print(6 * 7)", "Enter")
    screen = terminal.wait_for("42\n>>>")
    assert ">>> print(6 * 7)\n42\n>>>" in screen


def test_repl_ctrl_c_interrupts_a_sleeping_loop_and_ctrl_bracket_exits(terminal):
    terminal.wait_for("Use Ctrl-] or Ctrl-x to exit this shell")
    terminal.keys("import time", "Enter")
    terminal.keys("while True: time.sleep_ms(10)", "Enter", "Enter")
    time.sleep(0.5)
    terminal.keys("C-c")
    screen = terminal.wait_for("KeyboardInterrupt:")
    assert 'File "<stdin>", line 1, in <module>' in screen
    terminal.wait_for("KeyboardInterrupt:\n>>>")
    terminal.keys("C-]")
    deadline = Deadline(SCREEN_TIMEOUT_S)
    while terminal.session_alive() and not deadline.expired:
        time.sleep(POLL_S)
    assert not terminal.session_alive(), "mpremote repl did not exit on Ctrl-]"


def test_repl_ctrl_c_stops_while_true_pass(terminal):
    terminal.wait_for("Use Ctrl-] or Ctrl-x to exit this shell")
    terminal.keys("while True: pass", "Enter", "Enter")
    time.sleep(0.5)
    terminal.keys("C-c")
    terminal.wait_for("KeyboardInterrupt:\n>>>")
    terminal.keys("print(6 * 7)", "Enter")
    terminal.wait_for("42\n>>>")
