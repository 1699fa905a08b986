"""The MicroPython board process honours the board process contract (docs/sim-bench.md) and offers the
`machine` and `time` behaviour lesson scripts rely on."""
from __future__ import annotations

import time

from tests.sim_micropython.direct_board import DirectBoard

EXIT_TIMEOUT_S = 10.0


def test_status_reports_running_with_host_time(board):
    first = board.request("status")
    time.sleep(0.05)
    second = board.request("status")
    assert first["ok"] and first["state"] == "running"
    assert second["host_time_ns"] > first["host_time_ns"]


def test_an_unknown_command_is_refused_with_a_reason(board):
    reply = board.request("fly")
    assert reply["ok"] is False
    assert "fly" in reply["error"]


def test_pin_state_shows_what_scripts_did_to_machine_pins(board):
    board.enter_raw_repl()
    out, err = board.exec_raw("from machine import Pin\nled = Pin('LED', Pin.OUT)\nled.on()\nled.toggle()\n"
                              "led.toggle()\nb = Pin(15, Pin.IN, Pin.PULL_UP)\nprint(led.value(), b.value(), led)")
    assert (out, err) == (b"1 1 Pin(GPIO25, mode=OUT)\r\n", b"")
    pins = board.request("pin_state")["pins"]
    assert pins == {"25": {"mode": "OUT", "pull": None, "value": 1},
                    "15": {"mode": "IN", "pull": "PULL_UP", "value": 1}}


def test_an_invalid_pin_raises_value_error_like_a_pico(board):
    board.enter_raw_repl()
    _, err = board.exec_raw("import machine\nmachine.Pin(30)")
    assert err.endswith(b"ValueError: invalid pin\r\n")


def test_reset_command_reboots_keeping_files_and_reconnects_usb(board):
    board.enter_raw_repl()
    board.exec_raw("open('kept.txt','w').write('flash')\nimport machine\nmachine.Pin(3, machine.Pin.OUT).on()")
    assert board.request("reset")["ok"]
    board.wait_event("usb-reconnect", 5.0)
    board.wait_friendly_prompt()
    assert board.request("pin_state")["pins"] == {}  # GPIO is reset, the flash is not
    assert (board.state_dir / "fs" / "kept.txt").read_text() == "flash"


def test_machine_reset_from_a_script_is_a_hard_reset(board):
    board.enter_raw_repl()
    board.write(b"import machine\nmachine.reset()\x04")
    board.wait_event("usb-reconnect", 5.0)
    board.wait_friendly_prompt()


def test_machine_soft_reset_soft_reboots(board):
    board.enter_raw_repl()
    board.write(b"import machine\nmachine.soft_reset()\x04")
    board.expect(b"MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>", 5.0)


def test_machine_and_time_behave_as_on_a_pico(board):
    board.enter_raw_repl()
    out, err = board.exec_raw(
        "import machine, time\n"
        "print(machine.freq(), len(machine.unique_id()))\n"
        "t0 = time.ticks_ms(); u0 = time.ticks_us()\n"
        "time.sleep_ms(50)\n"
        "print(time.ticks_diff(time.ticks_ms(), t0) >= 50, time.ticks_diff(time.ticks_us(), u0) >= 50_000)\n"
        "print(time.ticks_add(time.ticks_ms(), 10) != time.ticks_ms(), type(time.ticks_us()))")
    assert err == b""
    assert out == b"125000000 8\r\nTrue True\r\nTrue <class 'int'>\r\n"


def test_what_the_sim_cannot_be_is_left_honest(board):
    board.enter_raw_repl()
    out, err = board.exec_raw("import gc, sys\nprint(sys.implementation._machine, gc.mem_free() > 1_000_000)\n"
                              "import _thread")
    assert out == b"JS with Emscripten True\r\n"  # the heap grows on demand: no Pico-sized MemoryError
    assert err.endswith(b"ImportError: no module named '_thread'\r\n")


def test_unique_id_follows_the_usb_serial_number(tmp_path):
    board = DirectBoard(tmp_path / "b", options={"serial_number": "E66038B7133C5F2A"})
    try:
        board.wait_friendly_prompt()
        board.enter_raw_repl()
        out, _ = board.exec_raw("import machine\nprint(machine.unique_id().hex())")
        assert out == b"e66038b7133c5f2a\r\n"  # a Pico's USB serial number is its flash unique id in hex
    finally:
        board.close()


def test_process_exits_when_stdin_closes(tmp_path):
    board = DirectBoard(tmp_path / "b")
    board.wait_event("ready", 15.0)
    board.proc.stdin.close()
    assert board.proc.wait(EXIT_TIMEOUT_S) == 0
    board.close()


def test_process_exits_when_stdin_closes_even_while_python_computes(tmp_path):
    board = DirectBoard(tmp_path / "b")
    board.wait_friendly_prompt()
    board.enter_raw_repl()
    board.write(b"x = 3 ** 3000000\x04")  # a long native operation, unreachable by Ctrl-C
    board.expect(b"^OK")
    board.proc.stdin.close()
    assert board.proc.wait(EXIT_TIMEOUT_S) == 0
    board.close()
