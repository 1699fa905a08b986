"""The supervisor's serial ports: PTYs that pyserial opens like a Pico's, relayed through the link model."""
import os
import threading
import time

import pytest
import serial

from tests.sim_bench.sim_helpers import wait_until

READ_TIMEOUT_S = 2.0
ROUND_TRIPS = 20
FRAME_PERIOD_S = 0.001


def open_port(path: str) -> serial.Serial:
    return serial.Serial(path, 115200, timeout=READ_TIMEOUT_S)


def echo(port: serial.Serial, data: bytes) -> bytes:
    port.write(data)
    return port.read(len(data))


@pytest.mark.parametrize("link", ["none", "usb-fs"])
def test_every_board_port_carries_bytes_to_its_board_process_and_back(start_supervisor, link):
    supervisor = start_supervisor("--rust", "1", "--micropython", "1", "--link", link)
    for board in supervisor.boards().values():
        with open_port(board["port"]) as port:
            assert echo(port, b"hello " + board["id"].encode()) == b"hello " + board["id"].encode()


def test_port_symlink_points_at_the_current_pts(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0")
    board = supervisor.boards()["sim-rust-0"]
    assert os.readlink(board["port"]) == board["pts"]
    assert os.readlink(board["uart_port"]) == board["uart_pts"]
    assert board["pts"].startswith("/dev/pts/")


def test_rust_board_uart0_is_a_second_link_on_fd_4(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0", "--link", "none")
    board = supervisor.boards()["sim-rust-0"]
    with open_port(board["uart_port"]) as uart, open_port(board["port"]) as usb:
        assert echo(uart, b"on uart") == b"on uart"
        assert echo(usb, b"on usb") == b"on usb"


def test_bulk_data_crosses_the_usb_fs_link_intact_and_in_order(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1", "--link", "usb-fs")
    payload = bytes(range(256)) * 256   # 64 KB: about 54 frames each way
    with open_port(supervisor.boards()["sim-mpy-0"]["port"]) as port:
        port.timeout = 10.0
        assert echo(port, payload) == payload


def test_one_byte_round_trip_over_usb_fs_costs_at_least_one_frame(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1", "--link", "usb-fs")
    with open_port(supervisor.boards()["sim-mpy-0"]["port"]) as port:
        wait_until(lambda: echo(port, b"?") == b"?", 2.0, "port relaying")
        round_trips_s = []
        for _ in range(ROUND_TRIPS):
            start_s = time.monotonic()
            assert echo(port, b"x") == b"x"
            round_trips_s.append(time.monotonic() - start_s)
    assert min(round_trips_s) >= FRAME_PERIOD_S


def test_usb_reconnect_removes_the_port_and_brings_it_back_under_the_same_name(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0", "--reenumerate-gap-ms", "300")
    board = supervisor.boards()["sim-rust-0"]
    symlink = board["port"]
    port = open_port(symlink)
    assert echo(port, b"before") == b"before"

    supervisor.client.board_command("sim-rust-0", "replug", 5.0)   # the board emits usb-reconnect
    wait_until(lambda: not os.path.lexists(symlink), 2.0, "port symlink removed")
    with pytest.raises(serial.SerialException):
        port.read(1)   # the old port is gone, as /dev/ttyACM0 is after a Pico resets
    port.close()

    wait_until(lambda: os.path.lexists(symlink), 2.0, "port symlink back")
    with open_port(symlink) as reopened:
        assert echo(reopened, b"after") == b"after"
    assert supervisor.boards()["sim-rust-0"]["pts"] == os.readlink(symlink)


def test_uart0_port_stays_when_the_usb_port_re_enumerates(start_supervisor):
    supervisor = start_supervisor("--rust", "1", "--micropython", "0", "--reenumerate-gap-ms", "300")
    board = supervisor.boards()["sim-rust-0"]
    supervisor.client.board_command("sim-rust-0", "reset", 5.0)
    wait_until(lambda: not os.path.lexists(board["port"]), 2.0, "usb port removed")
    assert os.readlink(board["uart_port"]) == board["uart_pts"]


def test_a_large_burst_from_the_board_reaches_the_host_intact(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1", "--link", "none")
    size_bytes = 1_000_000
    expected = (bytes(range(256)) * (size_bytes // 256 + 1))[:size_bytes]
    with open_port(supervisor.boards()["sim-mpy-0"]["port"]) as port:
        wait_until(lambda: echo(port, b"?") == b"?", 2.0, "port relaying")
        # The board writes while the host reads: the relay's back-pressure holds the board until then.
        sender = threading.Thread(target=lambda: supervisor.client.board_command(
            "sim-mpy-0", "tx", 10.0, size_bytes=size_bytes))
        sender.start()
        port.timeout = 10.0
        received = port.read(size_bytes)
        sender.join(10.0)
        assert received == expected


def test_board_output_is_dropped_while_no_host_has_the_port_open(start_supervisor):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1", "--link", "none")
    board = supervisor.boards()["sim-mpy-0"]
    supervisor.client.board_command("sim-mpy-0", "tx", 5.0, size_bytes=1000)   # nobody listening
    supervisor.client.board_command("sim-mpy-0", "status", 5.0)
    with open_port(board["port"]) as port:
        port.timeout = 0.3
        assert port.read(1000) == b""
        wait_until(lambda: echo(port, b"?") == b"?", 2.0, "port relaying")
        supervisor.client.board_command("sim-mpy-0", "tx", 5.0, size_bytes=10)
        port.timeout = READ_TIMEOUT_S
        assert port.read(10) == bytes(range(10))
