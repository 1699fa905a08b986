"""Client of the simulated bench's control socket (`<HIL_SIM_DIR>/control.sock`, docs/sim-bench.md).

Standard library only: the stand-ins must not depend on the framework's higher layers.
"""
from __future__ import annotations

import json
import os
import socket
import time

SIM_DIR_ENV = "HIL_SIM_DIR"
CONTROL_SOCKET_NAME = "control.sock"
READ_CHUNK_BYTES = 65536


class SimUnavailable(Exception):
    """No simulated bench is reachable (HIL_SIM_DIR unset, or nothing listening on its control socket)."""


class SimRequestFailed(Exception):
    """The supervisor or a board answered a request with ok=false."""


class SimControlClient:
    """Sends one JSON request per connection and waits for its reply, with a deadline."""

    def __init__(self, sim_dir: str | None = None):
        sim_dir = sim_dir if sim_dir is not None else os.environ.get(SIM_DIR_ENV)
        if not sim_dir:
            raise SimUnavailable(f"{SIM_DIR_ENV} is not set")
        self.socket_path = os.path.join(sim_dir, CONTROL_SOCKET_NAME)
        self._next_id = 1

    def request(self, cmd: str, timeout_s: float, **fields) -> dict:
        """The supervisor's reply to `{"cmd": cmd, **fields}`; SimRequestFailed if it says ok=false."""
        request_id = self._next_id
        self._next_id += 1
        deadline_at = time.monotonic() + timeout_s
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            sock.connect(self.socket_path)
        except OSError as err:
            raise SimUnavailable(f"cannot reach {self.socket_path}: {err}") from err
        with sock:
            sock.sendall((json.dumps({"id": request_id, "cmd": cmd, **fields}) + "\n").encode())
            buffer = b""
            while True:
                remaining_s = deadline_at - time.monotonic()
                if remaining_s <= 0:
                    raise TimeoutError(f"no reply to {cmd!r} within {timeout_s:g} s")
                sock.settimeout(remaining_s)
                chunk = sock.recv(READ_CHUNK_BYTES)
                if not chunk:
                    raise SimUnavailable(f"{self.socket_path} closed the connection before replying to {cmd!r}")
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    reply = json.loads(line)
                    if reply.get("id") != request_id:
                        continue  # an event or another request's reply
                    if not reply.get("ok"):
                        raise SimRequestFailed(reply.get("error") or f"{cmd!r} failed")
                    return reply

    def boards(self, timeout_s: float) -> list[dict]:
        """The simulated boards (`id`, `runtime`, `serial_number`, `probe`, ...)."""
        return self.request("list", timeout_s)["boards"]

    def board(self, board_id: str, timeout_s: float, cmd: str, **fields) -> dict:
        """A board-process command (status, load, run, reset, bootsel) and the board's reply."""
        return self.request(cmd, timeout_s, board=board_id, **fields)
