"""Runs benchmarks.pty_peer in the background (through hil.process.run_tool, with a deadline) and waits for its
port."""
from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.bench_session import PROJECT_ROOT
from hil.deadline import Deadline
from hil.errors import DeadlineExpired

PORT_WAIT_S = 10.0
POLL_S = 0.01
STOP_WAIT_S = 10.0


class PtyPeerProcess:
    def __init__(self, mode_args: list[str], lifetime_s: float):
        self._folder = tempfile.TemporaryDirectory(prefix="hil-pty-peer-")
        self._port_file = Path(self._folder.name) / "port"
        self._argv = [sys.executable, "-m", "benchmarks.pty_peer", "--port-file", str(self._port_file), *mode_args]
        self._lifetime_s = lifetime_s
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: Exception | None = None
        self.port = ""

    def _run(self) -> None:
        from hil.process import run_tool
        try:
            run_tool(self._argv, self._lifetime_s, cwd=PROJECT_ROOT)
        except Exception as error:   # noqa: BLE001 - reported by stop()
            self.error = error

    def start(self) -> str:
        self._thread.start()
        deadline = Deadline(PORT_WAIT_S)
        while not (self._port_file.exists() and self._port_file.read_text()):
            if deadline.expired or not self._thread.is_alive():
                raise DeadlineExpired(f"the PTY peer ({' '.join(self._argv)}) publishing its port", PORT_WAIT_S)
            time.sleep(POLL_S)
        self.port = self._port_file.read_text()
        return self.port

    def stop(self, quit_request: bytes) -> None:
        """Ask it to end (through its port), wait for it, and clean up."""
        import serial
        try:
            with serial.Serial(self.port, timeout=1) as port:
                port.write(quit_request)
        except (serial.SerialException, OSError):
            pass
        self._thread.join(STOP_WAIT_S)
        self._folder.cleanup()
        if self.error is not None:
            raise self.error
