"""One running board process (node pico_board.mjs, or any program that follows the board
process contract in docs/sim-bench.md), driven from the supervisor's reactor.

Started through `board_launcher.py`: its own session (so it and anything it starts can be killed as a group), a
parent-death signal (so a supervisor killed with SIGKILL leaves no board behind), and its links on fd 3/4.
Control requests go to its stdin as JSON lines; replies and events come back on its stdout.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

from hil.sim.reactor import Reactor

LAUNCHER = Path(__file__).resolve().parent / "board_launcher.py"
FIRST_LINK_FD = 3   # fd 3 = USB link, fd 4 = UART0 (contract)
READ_CHUNK_BYTES = 65536

ReplyCallback = Callable[[dict], None]


class BoardProcess:
    def __init__(self, reactor: Reactor, board_id: str, command: list[str], state_dir: Path, options: dict,
                 link_count: int, on_event: Callable[[dict], None], on_exit: Callable[[int], None]):
        self.reactor = reactor
        self.board_id = board_id
        self.command = list(command)
        self.state_dir = Path(state_dir)
        self.options = options
        self.link_count = link_count
        self.on_event = on_event
        self.on_exit = on_exit
        self.popen: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._pidfd: int | None = None
        self._next_id = 1
        self._pending: dict[int, ReplyCallback] = {}
        self._stdout_buffer = b""
        self._stdin_buffer = bytearray()
        self._log = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.returncode is None

    def start(self) -> list[socket.socket]:
        """Start the process; returns the supervisor's ends of its link sockets (fd 3, fd 4 order)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(self.link_count)]
        board_fds = [board_end.fileno() for _, board_end in pairs]
        argv = [sys.executable, "-I", str(LAUNCHER), "--parent-pid", str(os.getpid())]
        for index, fd in enumerate(board_fds):
            argv += ["--fd", f"{fd}:{FIRST_LINK_FD + index}"]
        argv += ["--", *self.command, "--board-id", self.board_id, "--state-dir", str(self.state_dir),
                 "--options-json", json.dumps(self.options)]
        self._log = open(self.state_dir / "board.log", "ab")
        try:
            self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                          pass_fds=board_fds, start_new_session=True, cwd=self.state_dir)
        finally:
            for _, board_end in pairs:
                board_end.close()
        self.returncode = None
        os.set_blocking(self.popen.stdout.fileno(), False)
        os.set_blocking(self.popen.stdin.fileno(), False)
        self.reactor.set_reader(self.popen.stdout.fileno(), self._on_stdout)
        self._pidfd = os.pidfd_open(self.popen.pid)
        self.reactor.set_reader(self._pidfd, self._on_exited)
        return [sup_end for sup_end, _ in pairs]

    # ---- control requests
    def request(self, message: dict, on_reply: ReplyCallback) -> None:
        """Send a request (its `id` is assigned here); `on_reply` gets the reply, or an error if the process ends."""
        if not self.running:
            on_reply({"ok": False, "error": f"board process of {self.board_id} is not running"})
            return
        request_id = self._next_id
        self._next_id += 1
        self._pending[request_id] = on_reply
        self._send({**message, "id": request_id})

    def _send(self, message: dict) -> None:
        self._stdin_buffer += (json.dumps(message) + "\n").encode()
        self._flush_stdin()

    def _flush_stdin(self) -> None:
        if self.popen is None or self.popen.stdin.closed:
            return
        fd = self.popen.stdin.fileno()
        try:
            while self._stdin_buffer:
                written = os.write(fd, self._stdin_buffer)
                del self._stdin_buffer[:written]
        except BlockingIOError:
            pass
        except (BrokenPipeError, OSError):
            self._stdin_buffer.clear()
        self.reactor.set_writer(fd, self._flush_stdin if self._stdin_buffer else None)

    def _on_stdout(self) -> None:
        try:
            data = os.read(self.popen.stdout.fileno(), READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        if not data:
            self.reactor.forget(self.popen.stdout.fileno())
            return
        *lines, self._stdout_buffer = (self._stdout_buffer + data).split(b"\n")
        for line in lines:
            self._on_line(line)

    def _on_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self._diag(f"not a JSON object on stdout: {line[:200]!r}")
            return
        if "id" in message and "event" not in message:
            callback = self._pending.pop(message["id"], None)
            if callback is None:
                self._diag(f"reply to an unknown request: {line[:200]!r}")
            else:
                callback(message)
        elif "event" in message:
            self.on_event(message)
        else:
            self._diag(f"neither a reply nor an event: {line[:200]!r}")

    def _diag(self, text: str) -> None:
        if self._log and not self._log.closed:
            self._log.write(f"[supervisor] {text}\n".encode())
            self._log.flush()

    def _on_exited(self) -> None:
        self.returncode = self.popen.wait()
        self._release()
        pending, self._pending = self._pending, {}
        for callback in pending.values():
            callback({"ok": False, "error": f"board process exited with code {self.returncode}"})
        self.on_exit(self.returncode)

    def _release(self) -> None:
        for stream in (self.popen.stdout, self.popen.stdin):
            if not stream.closed:
                self.reactor.forget(stream.fileno())
                try:
                    stream.close()
                except OSError:
                    pass
        if self._pidfd is not None:
            self.reactor.forget(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._log:
            self._log.close()

    # ---- stopping (outside the reactor loop)
    def ask_to_exit(self) -> None:
        """Send `shutdown` and close stdin: a board process exits on either."""
        if not self.running:
            return
        self._send({"id": 0, "cmd": "shutdown"})
        try:
            self.popen.stdin.close()
        except OSError:
            pass

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def reap(self, timeout_s: float) -> bool:
        """Wait up to timeout_s for the process to end; True if it has."""
        if self.popen is None:
            return True
        try:
            self.returncode = self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        if self.popen is not None:
            self._release()
