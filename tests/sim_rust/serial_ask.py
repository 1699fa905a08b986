"""Asking a simulated board's serial port a question, as a host program would: open the port (it may be absent
for a moment while the board's USB re-enumerates), send a line, wait for the answer. Every wait has a deadline."""
from __future__ import annotations

import re
import time
from pathlib import Path

import serial

from hil.deadline import Deadline
from hil.errors import DeadlineExpired

READ_TIMEOUT_S = 0.05
RETRY_S = 0.1
ATTEMPT_TIMEOUT_S = 3.0  # a port that does not answer within this is reopened (it may have been re-created)


def ask(port: Path, line: bytes, pattern: bytes, timeout_s: float) -> re.Match:
    """Send `line` to the port until `pattern` comes back (reopening the port as needed), within timeout_s."""
    deadline = Deadline(timeout_s)
    last = b""
    while not deadline.expired:
        try:
            with serial.Serial(str(port), 115200, timeout=READ_TIMEOUT_S) as port_handle:
                port_handle.reset_input_buffer()
                port_handle.write(line)
                attempt = deadline.sub(ATTEMPT_TIMEOUT_S)
                received = b""
                while not attempt.expired:
                    received += port_handle.read(4096)
                    match = re.search(pattern, received)
                    if match:
                        return match
                last = received or last
        except (OSError, serial.SerialException):
            pass
        time.sleep(min(RETRY_S, deadline.remaining_s))
    raise DeadlineExpired(f"answer {pattern!r} to {line!r} on {port} (last received {last[-200:]!r})", timeout_s)


def silent_for(port: Path, line: bytes, quiet_s: float) -> bytes:
    """Send `line` and return whatever comes back within quiet_s (a responsive board answers; a stuck one not)."""
    with serial.Serial(str(port), 115200, timeout=READ_TIMEOUT_S) as port_handle:
        port_handle.reset_input_buffer()
        port_handle.write(line)
        deadline = Deadline(quiet_s)
        received = b""
        while not deadline.expired:
            received += port_handle.read(4096)
        return received
