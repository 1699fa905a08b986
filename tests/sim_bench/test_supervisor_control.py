"""The supervisor's control socket: listing boards, forwarding commands, halts, the 1200-baud touch, restarts."""
import json
import os
import re
import threading

import pytest
import serial

from tests.sim_bench.sim_helpers import wait_until
from hil.errors import BoardNotFound
from hil.sim.control_client import ControlClient
from hil.sim.sim_board_config import serial_number_for
from hil.sim.sim_errors import SimBoardCommandFailed

TIMEOUT_S = 5.0


def requests_seen(board: dict) -> list[dict]:
    path = os.path.join(board["state_dir"], "requests.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as log:
        return [json.loads(line) for line in log if line.strip()]


def test_list_describes_each_board_with_its_simulated_identity(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "1")
    boards = supervisor.boards()
    assert set(boards) == {"sim-rust-0", "sim-mpy-0"}
    rust, mpy = boards["sim-rust-0"], boards["sim-mpy-0"]
    assert (rust["runtime"], rust["vid_pid"]) == ("rust", "2e8a:0009")
    assert (mpy["runtime"], mpy["vid_pid"]) == ("micropython", "2e8a:0005")
    for board in (rust, mpy):
        assert re.fullmatch(r"[0-9A-F]{16}", board["serial_number"])
        assert board["port"] == str(supervisor.sim_dir.resolve() / f"{board['id']}.usb")
        assert board["state"] == "running" and board["process_state"] == "ready"
        assert board["pid"] > 0
    assert re.fullmatch(r"2e8a:000c:[0-9A-F]{16}", rust["probe"])
    assert rust["probe"].split(":")[2] != rust["serial_number"]   # the probe is a device of its own
    assert mpy["probe"] is None and mpy["uart_port"] is None


def test_identities_derive_from_the_board_id_so_they_are_stable_and_distinct():
    ids = [f"sim-mpy-{i}" for i in range(10)] + ["sim-rust-0"]
    serials = [serial_number_for(board_id) for board_id in ids]
    assert len(set(serials)) == len(ids)
    assert serials == [serial_number_for(board_id) for board_id in ids]


def test_bench_json_lists_the_boards_for_other_processes(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "2")
    bench = json.loads((supervisor.sim_dir / "bench.json").read_text())
    assert bench["supervisor_pid"] == supervisor.popen.pid
    assert [b["id"] for b in bench["boards"]] == ["sim-rust-0", "sim-mpy-0", "sim-mpy-1"]
    assert bench["link"]["name"] == "usb-fs"


def test_a_command_is_forwarded_to_the_board_process_and_its_reply_returned(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    reply = supervisor.client.board_command("sim-rust-0", "load", TIMEOUT_S, path="/tmp/firmware.elf")
    assert reply["ok"] is True and reply["path"] == "/tmp/firmware.elf"
    forwarded = [r for r in requests_seen(supervisor.boards()["sim-rust-0"]) if r["cmd"] == "load"]
    assert forwarded and forwarded[0]["path"] == "/tmp/firmware.elf" and "board" not in forwarded[0]


def test_a_board_error_and_an_unknown_board_are_reported_as_errors(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    with pytest.raises(SimBoardCommandFailed, match="unknown command"):
        supervisor.client.board_command("sim-mpy-0", "no-such-command", TIMEOUT_S)
    with pytest.raises(BoardNotFound, match="sim-nope"):
        supervisor.client.board_command("sim-nope", "status", TIMEOUT_S)


def test_status_reports_the_board_process_state(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    supervisor.client.board_command("sim-rust-0", "bootsel", TIMEOUT_S)
    assert supervisor.client.board_command("sim-rust-0", "status", TIMEOUT_S)["state"] == "bootsel"
    wait_until(lambda: supervisor.boards()["sim-rust-0"]["state"] == "bootsel", 2.0, "state tracked")


def test_halts_are_recorded_and_can_be_waited_for(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    assert supervisor.client.wait_halt("sim-rust-0", 0.3) is None   # none yet: the wait ends at its timeout

    waited: list = []
    other_client = ControlClient(supervisor.sim_dir)   # a second user, blocked in wait_halt meanwhile
    waiter = threading.Thread(target=lambda: waited.append(other_client.wait_halt("sim-rust-0", TIMEOUT_S)))
    waiter.start()
    supervisor.client.board_command("sim-rust-0", "halt", TIMEOUT_S)
    waiter.join(TIMEOUT_S + 2)
    halt = waited[0]
    assert (halt["board"], halt["reason"], halt["pc"]) == ("sim-rust-0", "hardfault", 0x10000100)
    assert supervisor.client.halts(TIMEOUT_S, "sim-rust-0") == [halt]
    assert supervisor.boards()["sim-rust-0"]["state"] == "halted"
    assert supervisor.client.wait_halt("sim-rust-0", 0.3, after_seq=halt["seq"]) is None


def test_a_1200_baud_touch_puts_the_board_into_bootsel(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    board = supervisor.boards()["sim-rust-0"]
    touch = serial.Serial(board["port"], 1200)   # what `picotool`/arduino-style tools do: open at 1200, close
    touch.close()
    wait_until(lambda: any(r["cmd"] == "bootsel" for r in requests_seen(board)), 2.0, "bootsel reached the board")
    wait_until(lambda: supervisor.boards()["sim-rust-0"]["state"] == "bootsel", 2.0, "board in BOOTSEL")
    # In BOOTSEL the Pico's serial port is not there; it comes back when the firmware runs again.
    wait_until(lambda: not os.path.lexists(board["port"]), 2.0, "serial port gone in BOOTSEL")
    supervisor.client.board_command("sim-rust-0", "run", TIMEOUT_S)
    wait_until(lambda: os.path.lexists(board["port"]), 2.0, "serial port back after run")
    assert supervisor.boards()["sim-rust-0"]["touches"] == 1


def test_opening_the_port_at_a_normal_speed_is_not_a_touch(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    board = supervisor.boards()["sim-rust-0"]
    with serial.Serial(board["port"], 115200, timeout=1.0) as port:
        port.write(b"x")
        assert port.read(1) == b"x"
    supervisor.client.board_command("sim-rust-0", "status", TIMEOUT_S)   # a round trip after the close
    assert not any(r["cmd"] == "bootsel" for r in requests_seen(board))


def test_a_board_process_that_dies_is_restarted_and_its_exit_recorded(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    before = supervisor.boards()["sim-mpy-0"]
    with pytest.raises(SimBoardCommandFailed, match="exited with code 3"):
        supervisor.client.board_command("sim-mpy-0", "crash", TIMEOUT_S)
    after = wait_until(lambda: (b := supervisor.boards()["sim-mpy-0"])["process_state"] == "ready"
                       and b["pid"] != before["pid"] and b, 5.0, "board process restarted")
    assert after["restarts"] == 1
    wait_until(lambda: os.path.lexists(after["port"]), 2.0, "port back")
    with serial.Serial(after["port"], 115200, timeout=2.0) as port:
        port.write(b"alive")
        assert port.read(5) == b"alive"


def test_a_malformed_request_gets_an_error_and_the_supervisor_keeps_serving(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    reply = supervisor.client.request({"cmd": "wait_halt", "board": "sim-rust-0", "after_seq": "soon"}, TIMEOUT_S)
    assert reply["ok"] is False and "bad request" in reply["error"]
    assert supervisor.client.request({"cmd": "nonsense"}, TIMEOUT_S)["ok"] is False
    assert supervisor.client.board_command("sim-rust-0", "status", TIMEOUT_S)["state"] == "running"
