"""Runs the MicroPython board process the way the supervisor does (docs/sim-bench.md, "Board process
contract"): a socketpair on fd 3 (the USB serial link, here held raw by the test, with no link model), JSON
lines on stdin/stdout. Every wait has a deadline."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

from hil.deadline import Deadline
from hil.errors import StepTimeout
from tests.board_process_control import BoardProcessControl

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "hil" / "sim" / "node"
BOARD_SCRIPT = NODE_DIR / "micropython_board.mjs"
SERIAL_FD = 3
READ_CHUNK_BYTES = 65536
EXIT_TIMEOUT_S = 10.0


class DirectBoard(BoardProcessControl):
    """One MicroPython board process whose serial link and control pipe are held by the test."""

    def __init__(self, state_dir: Path, board_id: str = "mpy0", options: dict | None = None):
        self.state_dir = state_dir
        self.serial, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = ["node", str(BOARD_SCRIPT), "--board-id", board_id, "--state-dir", str(state_dir)]
        if options:
            argv += ["--options-json", json.dumps(options)]
        state_dir.mkdir(parents=True, exist_ok=True)
        child_fd = child_end.fileno()
        with open(state_dir / "board.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=NODE_DIR,
                pass_fds=(SERIAL_FD,), preexec_fn=lambda: os.dup2(child_fd, SERIAL_FD),
            )
        child_end.close()
        self.start_control()
        self.received = bytearray()
        self.cursor = 0  # expect() searches from here; everything before was consumed
        self.received_more = threading.Condition()
        threading.Thread(target=self._read_serial, daemon=True).start()

    # ---- serial
    def _read_serial(self) -> None:
        while True:
            try:
                data = self.serial.recv(READ_CHUNK_BYTES)
            except OSError:
                data = b""
            with self.received_more:
                if data:
                    self.received += data
                self.received_more.notify_all()
            if not data:
                return

    def write(self, data: bytes) -> None:
        self.serial.sendall(data)

    def expect(self, pattern: bytes, timeout_s: float = 5.0) -> re.Match:
        """Wait for `pattern` (a regex over bytes) after the cursor; consume through the end of the match.
        A leading "^" anchors the pattern at the cursor."""
        anchored = pattern.startswith(b"^")
        regex = re.compile(pattern[1:] if anchored else pattern, re.DOTALL)
        deadline = Deadline(timeout_s)
        with self.received_more:
            while True:
                find = regex.match if anchored else regex.search
                match = find(self.received, self.cursor)
                if match:
                    self.cursor = match.end()
                    return match
                if deadline.expired:
                    raise StepTimeout(pattern.decode("latin1"), bytes(self.received[self.cursor:][-400:]),
                                      self.state_dir / "board.log", timeout_s)
                self.received_more.wait(deadline.remaining_s)

    def expect_exactly(self, expected: bytes, timeout_s: float = 5.0) -> None:
        """The next bytes on the link are exactly `expected`."""
        deadline = Deadline(timeout_s)
        with self.received_more:
            while len(self.received) - self.cursor < len(expected) and not deadline.expired:
                self.received_more.wait(deadline.remaining_s)
            got = bytes(self.received[self.cursor:self.cursor + len(expected)])
            assert got == expected, f"expected {expected!r}, got {got!r}"
            self.cursor += len(expected)

    def read_available(self, settle_s: float = 0.2) -> bytes:
        """Whatever arrives until the link has been quiet for `settle_s`."""
        with self.received_more:
            while True:
                size = len(self.received)
                self.received_more.wait(settle_s)
                if len(self.received) == size:
                    data = bytes(self.received[self.cursor:])
                    self.cursor = len(self.received)
                    return data

    # ---- REPL helpers
    def wait_friendly_prompt(self, timeout_s: float = 10.0) -> None:
        self.expect(rb">>> $", timeout_s)

    def enter_raw_repl(self, timeout_s: float = 5.0) -> None:
        self.write(b"\r\x03\x03\x01")
        self.expect(rb"raw REPL; CTRL-B to exit\r\n>", timeout_s)

    def exec_raw(self, code: str, timeout_s: float = 10.0) -> tuple[bytes, bytes]:
        """Run `code` in raw REPL (already entered); returns (stdout, traceback)."""
        self.write(code.encode() + b"\x04")
        match = self.expect(rb"OK(.*?)\x04(.*?)\x04>", timeout_s)
        return match.group(1), match.group(2)

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.serial.close()
        return self.proc.returncode
