"""The supervisor's control socket as docs/sim-bench.md specifies it ("Control socket requests used by the tool
stand-ins"), serving real board processes, so the stand-ins are tested against the documented protocol on their
own. End-to-end tests through hil/sim/supervisor.py live in test_supervisor_e2e.py."""
from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.sim_rust.board_harness import BoardHarness

BOARD_REQUEST_TIMEOUT_S = 30.0
PROBE_VID_PID = "2e8a:000c"
READ_CHUNK_BYTES = 65536


@dataclass
class SimulatedRustBoard:
    board_id: str
    serial_number: str
    harness: BoardHarness

    @property
    def probe(self) -> str:
        return f"{PROBE_VID_PID}:{self.serial_number}"


class ControlServer:
    """Answers `boards` and `board` on `<sim_dir>/control.sock`, one thread per connection."""

    def __init__(self, sim_dir: Path, boards: list[SimulatedRustBoard]):
        self.sim_dir = sim_dir
        self.boards = {b.board_id: b for b in boards}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(sim_dir / "control.sock"))
        self.listener.listen()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                chunk = conn.recv(READ_CHUNK_BYTES)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    request = json.loads(line)
                    conn.sendall((json.dumps(self._answer(request)) + "\n").encode())

    def _answer(self, request: dict) -> dict:
        request_id = request.get("id")
        if request.get("cmd") == "boards":
            listed = []
            for board in self.boards.values():
                state = board.harness.request("status", BOARD_REQUEST_TIMEOUT_S)["state"]
                listed.append({"board_id": board.board_id, "runtime": "rust", "state": state, "port": None,
                               "uart_port": None, "serial_number": board.serial_number, "probe": board.probe})
            return {"id": request_id, "ok": True, "boards": listed}
        if request.get("cmd") == "board":
            board = self.boards.get(request.get("board_id"))
            if board is None:
                return {"id": request_id, "ok": False, "error": f"unknown board {request.get('board_id')}"}
            inner = dict(request["request"])
            reply = board.harness.request(inner.pop("cmd"), BOARD_REQUEST_TIMEOUT_S, **inner)
            reply.pop("id", None)
            return {"id": request_id, "ok": reply.get("ok", False), "reply": reply}
        return {"id": request_id, "ok": False, "error": f"unknown command {request.get('cmd')}"}

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        try:
            os.unlink(self.sim_dir / "control.sock")
        except FileNotFoundError:
            pass
