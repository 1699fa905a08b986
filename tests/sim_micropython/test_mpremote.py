"""Unmodified mpremote against the simulated Pico, through the real simulated bench (supervisor, PTY, USB
full-speed link model): each command does what it does on a Pico. A Pico's stdout is cooked ("\n" is sent
as "\r\n") and mpremote passes it through unchanged, so the board's printed lines end in "\r\n" here too."""
from __future__ import annotations

import hashlib
import random

import pytest

LARGE_FILE_BYTES = 200 * 1024


def test_exec_prints_the_boards_output(mpremote):
    result = mpremote("exec", "print(6 * 7)")
    assert (result.returncode, result.stdout) == (0, "42\r\n")


def test_eval_prints_the_value(mpremote):
    result = mpremote("eval", "[x * x for x in range(4)]")
    assert (result.returncode, result.stdout.strip()) == (0, "[0, 1, 4, 9]")


def test_a_traceback_on_the_board_exits_with_code_1(mpremote):
    result = mpremote("exec", "import math\nmath.sqrt(-1)")
    assert result.returncode == 1
    assert "ValueError: math domain error" in result.stdout + result.stderr
    assert 'File "<stdin>", line 2, in <module>' in result.stdout + result.stderr


def test_run_executes_a_host_script(mpremote, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint('ran on', sys.platform)\nprint(sum(range(10)))\n")
    result = mpremote("run", str(script))
    assert (result.returncode, result.stdout) == (0, "ran on webassembly\r\n45\r\n")


def test_run_of_a_failing_script_reports_its_own_line_numbers(mpremote, tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("x = 1\n\nraise RuntimeError('boom')\n")
    result = mpremote("run", str(script))
    assert result.returncode == 1
    assert 'File "<stdin>", line 3, in <module>\r\nRuntimeError: boom' in result.stdout + result.stderr


@pytest.mark.parametrize("name, content", [
    ("hello.txt", "line one\nline two\n".encode()),
    ("blob.bin", bytes(range(256)) * 4 + b"\x00\x04\x03\r\n"),
    # Printable bytes: mpremote sends each chunk as a bytes literal, so this keeps the copy round-trip bound
    # rather than escape bound (blob.bin covers every byte value).
    ("large.txt", bytes(random.Random(1).choice(b"abcdefghij\n") for _ in range(LARGE_FILE_BYTES))),
])
def test_fs_cp_round_trips_text_binary_and_large_files(mpremote, sim, tmp_path, name, content):
    source = tmp_path / name
    source.write_bytes(content)
    assert mpremote("fs", "cp", str(source), f":{name}").returncode == 0
    assert (sim.board_fs() / name).read_bytes() == content  # it is in the board's flash folder
    back = tmp_path / f"back-{name}"
    result = mpremote("fs", "cp", f":{name}", str(back))
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(back.read_bytes()).hexdigest() == hashlib.sha256(content).hexdigest()


def test_fs_ls_lists_names_and_sizes(mpremote, sim):
    (sim.board_fs() / "listed.txt").write_bytes(b"12345")
    (sim.board_fs() / "listed_dir").mkdir(exist_ok=True)
    result = mpremote("fs", "ls", ":")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "ls :"
    assert "           5 listed.txt" in lines
    assert "           0 listed_dir/" in lines


def test_fs_cat_prints_a_file(mpremote, sim):
    (sim.board_fs() / "cat_me.txt").write_text("first\nsecond\n")
    result = mpremote("fs", "cat", ":cat_me.txt")
    assert result.returncode == 0
    assert result.stdout.replace("\r\n", "\n") == "first\nsecond\n"


def test_fs_rm_removes_and_reports_a_missing_file(mpremote, sim):
    (sim.board_fs() / "doomed.txt").write_text("x")
    assert mpremote("fs", "rm", ":doomed.txt").returncode == 0
    assert not (sim.board_fs() / "doomed.txt").exists()
    missing = mpremote("fs", "rm", ":doomed.txt")
    assert missing.returncode == 1
    assert "doomed.txt: No such file or directory" in missing.stdout + missing.stderr


def test_soft_reset_clears_the_interpreter_but_not_the_flash(mpremote, sim):
    assert mpremote("exec", "import builtins; builtins.marker = 1\nopen('flash.txt','w').write('kept')",
                    "soft-reset").returncode == 0
    result = mpremote("exec", "import builtins; print(hasattr(builtins, 'marker'), open('flash.txt').read())")
    assert (result.returncode, result.stdout) == (0, "False kept\r\n")


def test_files_survive_a_hard_reset(mpremote, sim):
    assert mpremote("exec", "open('survivor.txt','w').write('still here')").returncode == 0
    sim.command(0, "reset")
    sim.wait_port_back(0)  # a Pico's USB device re-enumerates on reset
    result = mpremote("exec", "print(open('survivor.txt').read())")
    assert (result.returncode, result.stdout) == (0, "still here\r\n")


def test_machine_pin_state_is_visible_to_the_host(mpremote, sim):
    assert mpremote("exec", "from machine import Pin\nPin('LED', Pin.OUT).on()\nPin(2, Pin.OUT, value=0)"
                    ).returncode == 0
    pins = sim.command(0, "pin_state")["pins"]
    assert pins["25"] == {"mode": "OUT", "pull": None, "value": 1}
    assert pins["2"] == {"mode": "OUT", "pull": None, "value": 0}


def test_machine_module_answers_like_a_pico(mpremote):
    result = mpremote("exec", "import machine\nprint(machine.freq(), len(machine.unique_id()))")
    assert (result.returncode, result.stdout) == (0, "125000000 8\r\n")


def test_sys_implementation_stays_honest(mpremote):
    result = mpremote("exec", "import sys\nprint(sys.implementation._machine)")
    assert result.stdout == "JS with Emscripten\r\n"
