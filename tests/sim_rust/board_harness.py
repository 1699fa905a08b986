"""Runs the board process (the emulated Pico, here with Rust images) the way the supervisor does (docs/sim-bench.md, "Board process contract"):
socketpairs on fd 3 (USB) and fd 4 (UART0), JSON lines on stdin/stdout. Every wait has a deadline."""
from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import subprocess
from pathlib import Path

from hil.deadline import Deadline
from hil.errors import DeadlineExpired
from hil.sim.firmware_images import locate_image
from tests.board_process_control import BoardProcessControl

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "hil" / "sim" / "node"
BOARD_SCRIPT = NODE_DIR / "pico_board.mjs"
STANDINS_DIR = REPO / "hil" / "sim" / "standins"
READ_CHUNK_BYTES = 65536
POLL_S = 0.05
USB_FD = 3
UART_FD = 4
HIGH_FD_MIN = 10


class BoardHarness(BoardProcessControl):
    """One board process with both links held by the test."""

    def __init__(self, state_dir: Path, board_id: str = "rust0", options: dict | None = None):
        self.usb, usb_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.uart, uart_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = ["node", str(BOARD_SCRIPT), "--board-id", board_id, "--state-dir", str(state_dir)]
        options = dict(options or {})
        if "bootrom" not in options:   # as the supervisor does: the checked bootrom image (None: boot without)
            options["bootrom"] = str(locate_image("bootrom").path)
        elif options["bootrom"] is None:
            del options["bootrom"]
        if options:
            argv += ["--options-json", json.dumps(options)]
        state_dir.mkdir(parents=True, exist_ok=True)
        with open(state_dir / "board.log", "ab") as log:
            # the child sees the USB link on fd 3 and UART0 on fd 4
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=NODE_DIR,
                pass_fds=(USB_FD, UART_FD), preexec_fn=_place_fds(usb_child.fileno(), uart_child.fileno()),
            )
        usb_child.close()
        uart_child.close()
        self.start_control()
        self.received = {"usb": bytearray(), "uart": bytearray()}

    def expect(self, link: str, pattern: bytes, timeout_s: float) -> re.Match:
        """Wait until `pattern` appears in what `link` ("usb" or "uart") has sent so far."""
        sock = self.usb if link == "usb" else self.uart
        buf = self.received[link]
        deadline = Deadline(timeout_s)
        while True:
            match = re.search(pattern, bytes(buf))
            if match:
                return match
            if deadline.expired:
                raise DeadlineExpired(f"{pattern!r} on {link} (got {bytes(buf)[-200:]!r})", timeout_s)
            sock.settimeout(min(POLL_S, max(deadline.remaining_s, 0.001)))
            try:
                data = sock.recv(READ_CHUNK_BYTES)
            except (socket.timeout, BlockingIOError):
                continue
            buf += data

    def send(self, link: str, data: bytes) -> None:
        (self.usb if link == "usb" else self.uart).sendall(data)

    def close(self, timeout_s: float = 5.0) -> int:
        """Close stdin (the board must exit on its own) and return its exit code."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout=timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
            self.usb.close()
            self.uart.close()


def _place_fds(usb_fd: int, uart_fd: int):
    def in_child() -> None:
        # copy both above the target numbers first, so placing one cannot clobber the other
        high_usb = fcntl.fcntl(usb_fd, fcntl.F_DUPFD, HIGH_FD_MIN)
        high_uart = fcntl.fcntl(uart_fd, fcntl.F_DUPFD, HIGH_FD_MIN)
        os.dup2(high_usb, USB_FD)
        os.dup2(high_uart, UART_FD)
    return in_child
