"""The control side of a simulated board process, as the supervisor speaks it (docs/sim-bench.md, "Board process
contract"): JSON requests on the process's stdin, replies and events as JSON lines on its stdout. Shared by the
test harnesses that run the MicroPython and the Rust board processes directly. Every wait has a deadline."""
from __future__ import annotations

import json
import queue
import subprocess
import threading

from hil.deadline import Deadline
from hil.errors import DeadlineExpired

REQUEST_TIMEOUT_S = 10.0


class BoardProcessControl:
    """Holds `self.proc` (started by the subclass with stdin and stdout as pipes) and talks to it."""

    proc: subprocess.Popen

    def start_control(self) -> None:
        """Call once `self.proc` runs: replies and events are read on a thread of their own."""
        self.events: queue.Queue = queue.Queue()
        self.replies: dict[int, dict] = {}
        self.reply_ready = threading.Condition()
        self.next_id = 1
        self.send_lock = threading.Lock()
        threading.Thread(target=self._read_control, daemon=True).start()

    def _read_control(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            if "event" in message:
                self.events.put(message)
            else:
                with self.reply_ready:
                    self.replies[message["id"]] = message
                    self.reply_ready.notify_all()

    def request(self, cmd: str, timeout_s: float = REQUEST_TIMEOUT_S, **fields) -> dict:
        with self.send_lock:
            request_id = self.next_id
            self.next_id += 1
            self.proc.stdin.write((json.dumps({"id": request_id, "cmd": cmd, **fields}) + "\n").encode())
            self.proc.stdin.flush()
        deadline = Deadline(timeout_s)
        with self.reply_ready:
            while request_id not in self.replies:
                if deadline.expired:
                    raise DeadlineExpired(f"reply to {cmd}", timeout_s)
                self.reply_ready.wait(deadline.remaining_s)
            return self.replies.pop(request_id)

    def wait_event(self, name: str, timeout_s: float) -> dict:
        deadline = Deadline(timeout_s)
        while True:
            try:
                event = self.events.get(timeout=max(deadline.remaining_s, 0.001))
            except queue.Empty:
                raise DeadlineExpired(f"event {name}", timeout_s) from None
            if event.get("event") == name:
                return event
