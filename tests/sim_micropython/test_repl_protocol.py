"""The REPL bytes exactly as a Pico's MicroPython speaks them (shared/runtime/pyexec.c, ports/rp2/main.c),
checked on the board process's serial link with no PTY or link model in between."""
from __future__ import annotations

import re
import struct
import time

BANNER = rb"MicroPython v1\.27\.0 on \d{4}-\d\d-\d\d; [^\r\n]+\r\nType \"help\(\)\" for more information\.\r\n"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
RAW_PASTE_WINDOW_BYTES = 128  # pyexec.c: half of MICROPY_REPL_STDIN_BUFFER_MAX (256)


def test_boots_into_the_friendly_repl_with_the_banner(tmp_path):
    from tests.sim_micropython.direct_board import DirectBoard
    fresh = DirectBoard(tmp_path / "b")
    try:
        fresh.wait_event("ready", 15.0)
        fresh.expect(b"^" + BANNER + rb">>> $", 10.0)
    finally:
        fresh.close()


def test_friendly_repl_echoes_and_prints_with_crlf(board):
    board.write(b"print(6 * 7)\r")
    board.expect_exactly(b"print(6 * 7)\r\n42\r\n>>> ")


def test_friendly_repl_continues_a_compound_statement(board):
    board.write(b"for i in range(2): print(i)\r")
    board.expect_exactly(b"for i in range(2): print(i)\r\n... ")
    board.write(b"\r")
    board.expect_exactly(b"\r\n0\r\n1\r\n>>> ")


def test_raw_repl_runs_code_and_separates_output_from_traceback(board):
    board.write(b"\x01")
    board.expect_exactly(b"\r\n" + RAW_BANNER)
    board.write(b"print('out')\x04")
    board.expect_exactly(b"OKout\r\n\x04\x04>")
    board.write(b"1/0\x04")
    board.expect_exactly(b'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n'
                         b"ZeroDivisionError: divide by zero\r\n\x04>")


def test_ctrl_b_leaves_raw_repl_for_the_friendly_banner(board):
    board.enter_raw_repl()
    board.write(b"\x02")
    board.expect(b"^\r\n" + BANNER + rb">>> $")


def test_raw_paste_answers_with_its_window_and_flow_control(board):
    board.enter_raw_repl()
    board.write(b"\x05A\x01")
    board.expect_exactly(b"R\x01")
    window = struct.unpack("<H", board.expect(b"^(..)", 5.0).group(1))[0]
    assert window == RAW_PASTE_WINDOW_BYTES
    board.expect_exactly(b"\x01")  # a second window is free from the start
    # Three windows of code: the board grants one more window each time it has consumed one.
    code = ("x = 0\n" + "x += 1\n" * ((3 * window) // 7) + "print('sum', x)\n").encode()
    granted = 2 * window
    sent = 0
    while sent < len(code):
        if sent == granted:
            board.expect_exactly(b"\x01")
            granted += window
        chunk = code[sent:min(granted, len(code))]
        board.write(chunk)
        sent += len(chunk)
    board.write(b"\x04")
    board.expect(rb"^\x01*\x04")  # window grants still on their way, then the end of data acknowledged
    expected_sum = code.count(b"x += 1")
    board.expect_exactly(b"sum %d\r\n\x04\x04>" % expected_sum)


def test_raw_paste_with_an_unknown_command_is_declined(board):
    board.enter_raw_repl()
    board.write(b"\x05B\x01")
    board.expect_exactly(b"R\x00>")


def test_soft_reset_from_friendly_repl_runs_boot_then_main(board):
    (board.state_dir / "fs" / "boot.py").write_text("print('boot ran')\n")
    (board.state_dir / "fs" / "main.py").write_text("print('main ran')\n")
    board.write(b"\x04")
    board.expect(b"^\r\nMPY: soft reboot\r\nboot ran\r\nmain ran\r\n" + BANNER + rb">>> $", 10.0)


def test_soft_reset_from_raw_repl_runs_boot_only_and_stays_raw(board):
    (board.state_dir / "fs" / "boot.py").write_text("print('boot ran')\n")
    (board.state_dir / "fs" / "main.py").write_text("print('main ran')\n")
    board.enter_raw_repl()
    board.write(b"\x04")
    board.expect_exactly(b"OK\r\nMPY: soft reboot\r\nboot ran\r\n" + RAW_BANNER, 10.0)


def test_soft_reset_forgets_variables_but_keeps_files(board):
    board.enter_raw_repl()
    board.exec_raw("x = 1\nopen('kept.txt', 'w').write('still here')")
    board.write(b"\x04")
    board.expect(re.escape(b"soft reboot\r\n" + RAW_BANNER), 10.0)
    out, err = board.exec_raw("print(open('kept.txt').read())\nprint(x)")
    assert out == b"still here\r\n"
    assert b"NameError: name 'x' isn't defined" in err


def test_a_traceback_from_main_py_names_the_file_and_the_repl_still_starts(board):
    (board.state_dir / "fs" / "main.py").write_text("a = 1\nundefined_name\n")
    board.write(b"\x04")
    board.expect(b'Traceback \\(most recent call last\\):\r\n  File "main.py", line 2, in <module>\r\n'
                 b"NameError: name 'undefined_name' isn't defined\r\n" + BANNER + b">>> $", 10.0)


def test_ctrl_c_interrupts_a_sleeping_loop_with_keyboard_interrupt(board):
    board.write(b"import time\r")
    board.wait_friendly_prompt()
    board.write(b"while True: time.sleep_ms(10)\r\r")
    board.expect(rb"\.\.\. \r\n", 5.0)
    time.sleep(0.3)  # the loop is running
    started = time.monotonic()
    board.write(b"\x03")
    board.expect(b'Traceback \\(most recent call last\\):\r\n  File "<stdin>", line 1, in <module>\r\n'
                 b"KeyboardInterrupt: \r\n>>> $", 5.0)
    interrupt_s = time.monotonic() - started
    assert interrupt_s < 1.0, f"Ctrl-C took {interrupt_s:.3f} s"
    board.write(b"print('alive')\r")
    board.expect(rb"alive\r\n>>> $")


def test_ctrl_c_interrupts_a_printing_loop(board):
    board.enter_raw_repl()
    board.write(b"n = 0\nwhile True:\n    n += 1\n    print(n)\n\x04")
    board.expect(rb"OK1\r\n", 5.0)
    board.write(b"\x03")
    board.expect(b'\x04Traceback \\(most recent call last\\):\r\n  File "<stdin>", line [34], in <module>\r\n'
                 b"KeyboardInterrupt: \r\n\x04>$", 5.0)


def test_ctrl_c_interrupts_pure_computation(board):
    board.write(b"x = 0\r")
    board.wait_friendly_prompt()
    board.write(b"while True: x += 1\r\r")
    board.expect(rb"\.\.\. \r\n", 5.0)
    time.sleep(0.3)  # the loop is running
    board.write(b"\x03")
    board.expect(b'Traceback \\(most recent call last\\):\r\n  File "<stdin>", line 1, in <module>\r\n'
                 b"KeyboardInterrupt: \r\n>>> $", 5.0)
    board.write(b"print(x > 0)\r")
    board.expect(rb"True\r\n>>> $")


def test_ctrl_c_during_one_long_native_operation_recovers_the_board_and_says_so(board):
    board.enter_raw_repl()
    board.write(b"x = 3 ** 1000000\x04")  # one bignum power: seconds inside C, no bytecode branch
    board.expect(b"^OK", 5.0)
    time.sleep(0.3)
    board.write(b"\x03")
    board.expect(rb"\[sim\] Ctrl-C not taken within \d+ ms.*Hard reset.*\r\n" + BANNER + rb">>> $", 10.0)
    board.write(b"print('alive')\r")
    board.expect(rb"alive\r\n>>> $")


def test_file_errors_carry_micropython_errno_values(board):
    board.enter_raw_repl()
    code = "\n".join([
        "import os",
        "def errno_of(f, *a):",
        "    try:",
        "        f(*a)",
        "    except OSError as e:",
        "        return e.errno",
        "os.mkdir('d')",
        "open('d/f', 'w').close()",
        "print(errno_of(open, 'missing'), errno_of(os.mkdir, 'd'), errno_of(open, 'd'),",
        "      errno_of(os.listdir, 'd/f'), errno_of(os.rmdir, 'd'))",
    ])
    out, err = board.exec_raw(code)
    assert err == b""
    assert out == b"2 17 21 20 39\r\n"  # ENOENT EEXIST EISDIR ENOTDIR ENOTEMPTY, as littlefs on a Pico


def test_a_file_error_traceback_shows_only_the_callers_frames(board):
    board.enter_raw_repl()
    _, err = board.exec_raw("open('missing')")
    assert err == (b'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n'
                   b"OSError: [Errno 2] ENOENT\r\n")


def test_modules_import_from_the_board_filesystem(board):
    (board.state_dir / "fs" / "lib").mkdir()
    (board.state_dir / "fs" / "lib" / "lesson_helper.py").write_text("ANSWER = 42\n")
    board.enter_raw_repl()
    out, err = board.exec_raw("import lesson_helper\nprint(lesson_helper.ANSWER)")
    assert (out, err) == (b"42\r\n", b"")
