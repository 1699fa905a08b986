"""A pretend Pico behind a real pseudo-terminal, with the faults of the fault matrix switchable by a test.

It plays the lesson firmware's line protocol (RUNTIME_RUST) or the MicroPython raw REPL (RUNTIME_MICROPYTHON) on
the master side of a PTY, in a thread; the framework opens the slave through a stable symlink like /dev/ttyACM0.
A reset (asked for by the fake flashing tool through a trigger file, like a probe's SWD reset) re-enumerates the
port and reboots the pretend firmware, which clears a hang but not a fault of the firmware itself (a panic at boot,
a reboot loop).
"""
from __future__ import annotations

import os
import random
import select
import threading
import time
from pathlib import Path

from tests.core.pty_device import PtyDevice

RUNTIME_RUST = "rust"
RUNTIME_MICROPYTHON = "micropython"

# Behaviours (faults) a test can switch on.
HEALTHY = "healthy"
SILENT = "silent"                        # never sends a byte
HANG_ON_COMMAND = "hang-on-command"      # healthy until HANG_COMMAND (or code with HANG_CODE), then an endless loop
DEAF_TO_CTRL_C = "deaf-to-ctrl-c"        # MicroPython: code with HANG_CODE loops where Ctrl-C cannot stop it
GARBAGE = "garbage"                      # answers with line noise (as at a wrong baud rate)
VANISH_AND_RETURN = "vanish-and-return"  # the next command makes the port vanish, then come back with the answer
VANISH_FOREVER = "vanish-forever"        # the next command makes the port vanish for good
REBOOT_LOOP = "reboot-loop"              # the firmware resets itself every REBOOT_PERIOD_S, never answering
PANIC_AT_BOOT = "panic-at-boot"          # the firmware panics before it can answer anything

HANG_COMMAND = "hang"
HANG_CODE = "while True:"
DEFAULT_BUILD_ID = "00000000c0ffee00"
NEW_BUILD_ID = "1111222233334444"       # the build of the fake image tests flash
FLASHED_BUILD_PREFIX = b"build="          # a fake image says which build it is: b"...build=<hex>"
REBOOT_PERIOD_S = 0.3
REENUMERATE_ABSENT_S = 0.2               # how long the port is gone during a reset
POLL_S = 0.02
HOST_REOPEN_TIMEOUT_S = 5.0             # vanish-and-return: how long the answer waits for the host
GARBAGE_SIZE_BYTES = 200
PANIC_PC = 0x1000_1A2C
PANIC_MESSAGE = "called `Option::unwrap()` on a `None` value at src/main.rs:42"

CTRL_A, CTRL_B, CTRL_C, CTRL_D = b"\x01", b"\x02", b"\x03", b"\x04"
RAW_REPL_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


class PretendPico:
    def __init__(self, board_id: str, runtime: str, link_path: Path, trigger_dir: Path, behaviour: str = HEALTHY,
                 absent_s: float = 0.5):
        self.board_id = board_id
        self.runtime = runtime
        self.behaviour = behaviour
        self.absent_s = absent_s
        self.trigger_dir = Path(trigger_dir)
        self.build_id = DEFAULT_BUILD_ID
        self.halt: dict | None = None
        self.boots = 0
        self.commands: list[str] = []
        self._hanging = False
        self._input = bytearray()
        self._in_raw_repl = False
        self._next_reboot_at = 0.0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.device = PtyDevice(link_path)
        self._thread = threading.Thread(target=self._serve, name=f"pretend-{board_id}", daemon=True)
        self._boot()
        self._thread.start()

    # -- what the bench and the fake tools see ---------------------------------------------------------------

    @property
    def link_path(self) -> Path:
        return self.device.link_path

    @property
    def reset_trigger(self) -> Path:
        return self.trigger_dir / f"reset-{self.board_id}"

    @property
    def flash_file(self) -> Path:
        return self.trigger_dir / f"flash-{self.board_id}.bin"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        with self._lock:
            self.device.close()

    # -- the firmware's life ---------------------------------------------------------------------------------

    def _boot(self) -> None:
        self.boots += 1
        self._hanging = False
        self._input.clear()
        self._in_raw_repl = False
        if self.flash_file.exists():
            content = self.flash_file.read_bytes()
            if FLASHED_BUILD_PREFIX in content:
                self.build_id = content.split(FLASHED_BUILD_PREFIX, 1)[1].split()[0].decode()
        if self.behaviour == PANIC_AT_BOOT:
            self.halt = {"reason": "panic", "pc": PANIC_PC, "message": PANIC_MESSAGE}
            self._send(f"PANIC {PANIC_MESSAGE}\r\n".encode())   # lost unless the host has the port open
            return
        self.halt = None
        if self.behaviour == REBOOT_LOOP:
            self._next_reboot_at = time.monotonic() + REBOOT_PERIOD_S
        if self.runtime == RUNTIME_RUST and self.behaviour not in (SILENT, GARBAGE):
            self._send(f"READY lesson build={self.build_id}\r\n".encode())

    def _reset(self, absent_s: float = REENUMERATE_ABSENT_S) -> None:
        """USB re-enumeration: the port vanishes, then the rebooted firmware's port appears under the same name."""
        with self._lock:
            self.device.vanish()
        time.sleep(absent_s)
        with self._lock:
            self.device._open()
            self._boot()

    def _wait_for_host(self, timeout_s: float) -> None:
        """Until the host has the port open: the PTY master reports a hang-up while no one has the other end."""
        poller = select.poll()
        poller.register(self.device.master_fd, select.POLLHUP)
        end = time.monotonic() + timeout_s
        while poller.poll(0) and time.monotonic() < end:
            time.sleep(POLL_S)

    def _send(self, data: bytes) -> None:
        with self._lock:
            if self.device.master_fd is None:
                return
            try:
                self.device.send(data)
            except OSError:
                pass

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self.reset_trigger.exists():
                self.reset_trigger.unlink()
                self._reset()
                continue
            if self.behaviour == REBOOT_LOOP and time.monotonic() >= self._next_reboot_at:
                self._reset()
                continue
            fd = self.device.master_fd
            if fd is None:
                time.sleep(POLL_S)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], POLL_S)
                data = os.read(fd, 4096) if ready else b""
            except (OSError, ValueError):   # the port vanished under us, or the host closed it
                time.sleep(POLL_S)
                continue
            if data:
                self._input += data
                self._consume()

    def _consume(self) -> None:
        if self.runtime == RUNTIME_RUST:
            while b"\n" in self._input:
                raw, _, rest = bytes(self._input).partition(b"\n")
                self._input[:] = rest
                self._on_line(raw.decode("utf-8", "replace").strip())
        else:
            self._on_repl_bytes()

    # -- the Rust lesson firmware ----------------------------------------------------------------------------

    def _on_line(self, line: str) -> None:
        if not line:
            return
        self.commands.append(line)
        if self._fault_takes(line):
            return
        if line == HANG_COMMAND:
            self._hanging = True
            return
        word = line.split()[0]
        if word == "id":
            self._send(f"OK id name=lesson version=0.1.0 build={self.build_id}\r\n".encode())
        elif word == "ping":
            self._send(b"OK pong\r\n")
        else:
            self._send(f"ERR {word}: unknown command\r\n".encode())

    def _fault_takes(self, request: str) -> bool:
        """Apply the current fault to a request; True if the fault swallowed it."""
        if self.halt is not None or self._hanging or self.behaviour in (SILENT, REBOOT_LOOP):
            return True
        if self.behaviour == GARBAGE:
            self._send(bytes(random.randrange(0x80, 0xC0) for _ in range(GARBAGE_SIZE_BYTES)))
            return True
        if self.behaviour == VANISH_FOREVER:
            with self._lock:
                self.device.vanish()
            return True
        if self.behaviour == VANISH_AND_RETURN:
            self.behaviour = HEALTHY   # a one-off glitch: the firmware keeps running and answers afterwards
            with self._lock:
                self.device.vanish()
            time.sleep(self.absent_s)
            with self._lock:
                self.device._open()
            self._wait_for_host(HOST_REOPEN_TIMEOUT_S)   # bytes sent to a port nobody has open are lost
            return False
        return False

    # -- the MicroPython raw REPL ----------------------------------------------------------------------------

    def _on_repl_bytes(self) -> None:
        if CTRL_C in self._input and self._hanging and self.behaviour == DEAF_TO_CTRL_C:
            self._input.clear()
            return
        if CTRL_C in self._input:
            interrupted = self._hanging
            self._hanging = False
            self._input[:] = self._input[self._input.rindex(CTRL_C) + 1:]
            if interrupted:
                self._send(b"\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
                           b"KeyboardInterrupt: \r\n\x04>")
        if self._hanging:
            self._input.clear()
            return
        if not self._in_raw_repl:
            if CTRL_A in self._input:
                self._input[:] = self._input[self._input.index(CTRL_A) + 1:]
                if self.behaviour in (SILENT, REBOOT_LOOP) or self.halt is not None:
                    return
                if self.behaviour == GARBAGE:
                    self._send(bytes(random.randrange(0x80, 0xC0) for _ in range(GARBAGE_SIZE_BYTES)))
                    return
                self._in_raw_repl = True
                self._send(RAW_REPL_BANNER)
            else:
                self._input.clear()
            return
        if CTRL_A in self._input and (CTRL_D not in self._input
                                      or self._input.index(CTRL_A) < self._input.index(CTRL_D)):
            # As MicroPython's pyexec does: Ctrl-A in the raw REPL resets it and sends the banner again.
            self._input[:] = self._input[self._input.index(CTRL_A) + 1:]
            self._send(RAW_REPL_BANNER)
        if CTRL_D in self._input:
            code, _, rest = bytes(self._input).partition(CTRL_D)
            self._input[:] = rest
            self._run_code(code.decode("utf-8", "replace"))

    def _run_code(self, code: str) -> None:
        self.commands.append(code)
        if self._fault_takes(code):
            return
        self._send(b"OK")
        if HANG_CODE in code:
            self._hanging = True
            return
        output = "42\r\n" if code.strip() == "print(7 * 6)" else ""
        self._send(output.encode() + b"\x04\x04>")
