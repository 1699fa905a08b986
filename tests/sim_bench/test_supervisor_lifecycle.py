"""Starting and stopping the supervisor: clean shutdown, no orphan board processes, many boards, one per dir."""
import json
import os
import signal
import subprocess
import sys

import serial

from tests.sim_bench.sim_helpers import REPO_ROOT, echo_board_commands, process_alive, wait_until
from hil.sim.control_client import ControlClient

EXIT_TIMEOUT_S = 10.0
MANY_BOARDS = 10


def board_pids(supervisor) -> list[int]:
    return [b["pid"] for b in supervisor.boards().values()]


def test_sigterm_stops_every_board_process_and_removes_the_ports(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "2")
    pids = board_pids(supervisor)
    ports = [p for b in supervisor.boards().values() for p in (b["port"], b["uart_port"]) if p]
    assert all(process_alive(pid) for pid in pids)

    supervisor.popen.send_signal(signal.SIGTERM)
    assert supervisor.popen.wait(EXIT_TIMEOUT_S) == 0
    assert [pid for pid in pids if process_alive(pid)] == []
    assert [p for p in ports if os.path.lexists(p)] == []
    assert not (supervisor.sim_dir / "control.sock").exists()
    assert not (supervisor.sim_dir / "bench.json").exists()


def test_a_supervisor_killed_with_sigkill_leaves_no_board_process_behind(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "1")
    pids = board_pids(supervisor)
    supervisor.popen.kill()
    supervisor.popen.wait(EXIT_TIMEOUT_S)
    wait_until(lambda: not any(process_alive(pid) for pid in pids), EXIT_TIMEOUT_S, "board processes gone")


def test_ten_micropython_boards_run_at_once(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", str(MANY_BOARDS))
    boards = supervisor.boards()
    assert len(boards) == MANY_BOARDS
    assert len({b["serial_number"] for b in boards.values()}) == MANY_BOARDS
    ports = [serial.Serial(b["port"], 115200, timeout=5.0) for b in boards.values()]
    try:
        for index, port in enumerate(ports):
            port.write(f"board {index}".encode())
        for index, port in enumerate(ports):
            assert port.read(len(f"board {index}")) == f"board {index}".encode()
    finally:
        for port in ports:
            port.close()


def test_a_second_supervisor_on_the_same_sim_dir_is_refused(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    second = subprocess.run(
        [sys.executable, "-m", "hil.sim.supervisor", "--sim-dir", str(supervisor.sim_dir), "--rust", "0",
         "--micropython", "1", "--board-command-json", json.dumps(echo_board_commands())],
        capture_output=True, text=True, timeout=EXIT_TIMEOUT_S, cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert second.returncode == 1
    assert f"pid {supervisor.popen.pid}" in second.stderr and "already runs" in second.stderr
    assert ControlClient(supervisor.sim_dir).ping(5.0)["pid"] == supervisor.popen.pid


def test_the_control_socket_shutdown_request_stops_the_supervisor(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    pids = board_pids(supervisor)
    assert ControlClient(supervisor.sim_dir).request({"cmd": "shutdown"}, 5.0)["ok"] is True
    assert supervisor.popen.wait(EXIT_TIMEOUT_S) == 0
    assert not any(process_alive(pid) for pid in pids)
