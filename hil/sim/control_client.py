"""Client of the supervisor's control socket (`<sim_dir>/control.sock`, JSON lines; see docs/sim-bench.md).

Used by SimBench, `hil boards` and the stand-ins (probe-rs, picotool, uhubctl, gpioset), which run from source
with any Python 3: this module imports only the standard library and stdlib-only modules of the package. One
request at a time per client; every call takes `timeout_s`.
"""
from __future__ import annotations

import itertools
import json
import os
import socket
from pathlib import Path

from hil.deadline import Deadline
from hil.errors import BoardNotFound, DeadlineExpired
from hil.sim.sim_errors import SimBoardCommandFailed, SimSupervisorUnavailable
from hil.sim.unix_socket import connect_unix

SIM_DIR_ENV = "HIL_SIM_DIR"
CONTROL_SOCKET_NAME = "control.sock"
BENCH_JSON_NAME = "bench.json"
READ_CHUNK_BYTES = 65536


class ControlClient:
    def __init__(self, sim_dir: str | os.PathLike):
        self.sim_dir = Path(sim_dir)
        self.socket_path = self.sim_dir / CONTROL_SOCKET_NAME
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._ids = itertools.count(1)

    @classmethod
    def from_env(cls) -> "ControlClient":
        """The client of the bench named by HIL_SIM_DIR (set by the framework for the tools it runs)."""
        sim_dir = os.environ.get(SIM_DIR_ENV)
        if not sim_dir:
            raise SimSupervisorUnavailable("(none)", f"{SIM_DIR_ENV} is not set")
        return cls(sim_dir)

    def connect(self, timeout_s: float) -> "ControlClient":
        if self._sock is not None:
            return self
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            connect_unix(sock, self.socket_path)
        except OSError as err:
            sock.close()
            raise SimSupervisorUnavailable(str(self.sim_dir), f"cannot connect to {self.socket_path}: "
                                                              f"{err.strerror or err}") from None
        self._sock = sock
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer = b""

    def __enter__(self) -> "ControlClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, message: dict, timeout_s: float) -> dict:
        """Send one request and return the reply (whatever its `ok`)."""
        deadline = Deadline(timeout_s)
        self.connect(deadline.remaining_s)
        request_id = next(self._ids)
        try:
            self._sock.settimeout(max(deadline.remaining_s, 0.001))
            self._sock.sendall((json.dumps({**message, "id": request_id}) + "\n").encode())
            while True:
                while b"\n" in self._buffer:
                    line, self._buffer = self._buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    reply = json.loads(line)
                    if reply.get("id") == request_id:
                        return reply
                if deadline.expired:
                    raise DeadlineExpired(f"supervisor reply to {message.get('cmd')!r}", timeout_s)
                self._sock.settimeout(max(deadline.remaining_s, 0.001))
                data = self._sock.recv(READ_CHUNK_BYTES)
                if not data:
                    raise SimSupervisorUnavailable(str(self.sim_dir), "the supervisor closed the connection")
                self._buffer += data
        except socket.timeout:
            self.close()
            raise DeadlineExpired(f"supervisor reply to {message.get('cmd')!r}", timeout_s) from None
        except OSError as err:
            self.close()
            raise SimSupervisorUnavailable(str(self.sim_dir), f"control socket: {err}") from None

    # ---- conveniences
    def ping(self, timeout_s: float) -> dict:
        return self.request({"cmd": "ping"}, timeout_s)

    def list_boards(self, timeout_s: float) -> list[dict]:
        return self.request({"cmd": "list"}, timeout_s)["boards"]

    def firmware_images(self, timeout_s: float) -> dict:
        """The images the supervisor's boards run (kind -> path, sha256, version, found_in)."""
        return self.request({"cmd": "list"}, timeout_s).get("firmware_images") or {}

    def board(self, board_id: str, timeout_s: float) -> dict:
        for board in self.list_boards(timeout_s):
            if board["id"] == board_id:
                return board
        raise BoardNotFound(board_id, f"not a board of the simulated bench in {self.sim_dir}")

    def board_command(self, board_id: str, cmd: str, timeout_s: float, **fields) -> dict:
        """Forward `cmd` to the board process; returns its reply, raises SimBoardCommandFailed if not ok."""
        reply = self.request({**fields, "cmd": cmd, "board": board_id}, timeout_s)
        if not reply.get("ok"):
            if reply.get("error_kind") == "unknown-board":
                raise BoardNotFound(board_id, reply.get("error", ""))
            raise SimBoardCommandFailed(board_id, cmd, reply.get("error", "failed"))
        return reply

    def wait_halt(self, board_id: str, timeout_s: float, after_seq: int = 0) -> dict | None:
        """The first halt of `board_id` recorded after `after_seq`, waiting up to timeout_s; None if none came."""
        reply = self.request({"cmd": "wait_halt", "board": board_id, "after_seq": after_seq,
                              "timeout_s": timeout_s}, timeout_s + 1.0)
        if not reply.get("ok"):
            raise BoardNotFound(board_id, reply.get("error", ""))
        return reply.get("halt")

    def halts(self, timeout_s: float, board_id: str | None = None) -> list[dict]:
        message = {"cmd": "halts"} if board_id is None else {"cmd": "halts", "board": board_id}
        return self.request(message, timeout_s)["halts"]
