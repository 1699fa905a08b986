"""The real simulated bench for end-to-end tests, started as a user starts it: `hil sim serve` with MicroPython
boards only. Each board is behind its PTY and the USB full-speed link model, reached by the stable port path
that `hil sim serve` prints (`<id> <runtime> <port>`, one line per board)."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import serial

from hil.deadline import Deadline
from hil.errors import DeadlineExpired
from hil.sim.control_client import ControlClient

REPO = Path(__file__).resolve().parents[2]
HIL = REPO / ".venv" / "bin" / "hil"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05
PORT_GONE_S = 0.2  # the supervisor closes a re-enumerating port at once; this lets it happen first


class SimSupervisor:
    """`hil sim serve` serving `board_count` simulated MicroPython Picos."""

    def __init__(self, sim_dir: Path, board_count: int):
        self.sim_dir = sim_dir
        self.log_path = sim_dir / "test-serve.log"
        argv = [str(HIL), "sim", "serve", "--sim-dir", str(sim_dir), "--rust", "0",
                "--micropython", str(board_count)]
        sim_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, cwd=REPO, text=True,
                                          env=dict(os.environ))
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.boards = self._wait_ready(board_count, START_TIMEOUT_S)

    def _read_lines(self) -> None:
        for line in self.popen.stdout:
            self._lines.put(line.rstrip("\n"))

    def _wait_ready(self, board_count: int, timeout_s: float) -> list[dict]:
        deadline = Deadline(timeout_s)
        printed = []
        while len(printed) < board_count:
            try:
                line = self._lines.get(timeout=max(deadline.remaining_s, 0.001))
            except queue.Empty:
                raise DeadlineExpired(f"hil sim serve printing {board_count} boards "
                                      f"(log: {self.log_path})", timeout_s) from None
            board_id, runtime, port = line.split()
            assert runtime == "micropython", line
            printed.append({"id": board_id, "port": port})
        while not deadline.expired:
            with ControlClient(self.sim_dir).connect(1.0) as client:
                described = {b["id"]: b for b in client.list_boards(1.0)}
            if all(described[b["id"]]["process_state"] == "ready" for b in printed):
                return [{**b, "state_dir": described[b["id"]]["state_dir"]} for b in printed]
            time.sleep(POLL_S)
        raise DeadlineExpired(f"{board_count} simulated MicroPython boards ready", timeout_s)

    @property
    def ports(self) -> list[str]:
        return [board["port"] for board in self.boards]

    def wait_port_back(self, index: int, timeout_s: float = 10.0) -> None:
        """After a hard reset the port goes away and comes back: wait until it opens again."""
        time.sleep(PORT_GONE_S)
        deadline = Deadline(timeout_s)
        while True:
            try:
                serial.Serial(self.ports[index], timeout=0).close()
                return
            except serial.SerialException:
                if deadline.expired:
                    raise DeadlineExpired(f"port {self.ports[index]} back after reset", timeout_s) from None
                time.sleep(POLL_S)

    def command(self, index: int, cmd: str, timeout_s: float = 10.0, **fields) -> dict:
        with ControlClient(self.sim_dir).connect(timeout_s) as client:
            return client.board_command(self.boards[index]["id"], cmd, timeout_s, **fields)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)  # Ctrl-C, as a person stops it
            try:
                self.popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen.stdout.close()
