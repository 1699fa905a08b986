"""Serial bytes in and out of a board, on pyserial.

Reads in bulk (select + one os.read of whatever is there, or pyserial's own read where the port has no file
descriptor, e.g. rfc2217://), keeps unconsumed bytes for the next `expect`, logs every byte with a timestamp, and
survives the port disappearing and coming back (USB re-enumeration after a reset) by asking its locator for the
port again, within the caller's deadline.
"""
from __future__ import annotations

import errno
import os
import re
import select
from typing import Callable

import serial
import termios

from hil.deadline import Deadline
from hil.errors import BoardNotFound, GarbledSerial, PortVanished, StepTimeout, seconds_text
from hil.transport import user_pattern
from hil.transport.serial_log import RX, TX, SerialLog

READ_CHUNK_BYTES = 65536
POLL_S = 0.05                  # longest single wait, so a vanished port is noticed promptly
TAIL_BYTES = 600               # how much of what was received a timeout error shows
REOPEN_RETRY_S = 0.05
GARBLED_MIN_BYTES = 16          # below this, too little to judge
GARBLED_RATIO = 0.3             # share of non-text bytes that means "not our protocol"
DEFAULT_BAUDRATE = 115200

RFC2217_SCHEME = "rfc2217://"
MIN_NETWORK_TIMEOUT_S = 0.25    # rfc2217: later settings changes wait this long for the remote's answer too
# rfc2217: one open attempt waits at most this long for the server's negotiation (pyserial's own default is 3 s).
# ser2net accepts a connection while its device is gone (a board resetting) and never negotiates, so a longer
# wait only delays the next attempt, which open() makes until its own deadline.
MAX_NETWORK_TIMEOUT_S = 3.0

# What a port that went away raises: pyserial's own error, the OS error, or (from tcdrain in flush) termios.error.
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

PortLocator = Callable[[float], str]   # timeout_s -> current port path or URL


def _takes_write_timeout(port: str) -> bool:
    """pyserial's rfc2217:// port refuses a write timeout (NotImplementedError); its writes go to a TCP socket."""
    return not port.startswith(RFC2217_SCHEME)


def _bounded_url(port: str, timeout_s: float) -> str:
    """`port` with pyserial's rfc2217 negotiation bounded by what is left of the open's deadline.

    Its open waits up to its network timeout (3 s by default) twice: for the option negotiation and for the port
    settings to be acknowledged; `?timeout=` sets that figure (at most MAX_NETWORK_TIMEOUT_S: the caller retries).
    Local ports are returned as they are.
    """
    if not port.startswith(RFC2217_SCHEME):
        return port
    base, _, query = port.partition("?")
    options = [o for o in query.split("&") if o and not o.startswith("timeout=")]
    network_timeout_s = min(max(timeout_s / 2, MIN_NETWORK_TIMEOUT_S), MAX_NETWORK_TIMEOUT_S)
    options.append(f"timeout={network_timeout_s:.3f}")
    return f"{base}?{'&'.join(options)}"


def _is_texty(byte: int) -> bool:
    return byte in (9, 10, 13) or 32 <= byte < 127 or byte >= 0xC2  # UTF-8 lead/continuation bytes count as text


def looks_garbled(data: bytes) -> bool:
    """True if `data` is mostly bytes that no line protocol or REPL sends (noise, wrong baud rate)."""
    if len(data) < GARBLED_MIN_BYTES:
        return False
    non_text = sum(1 for b in data if not _is_texty(b))
    return non_text / len(data) >= GARBLED_RATIO


class SerialTransport:
    """A board's serial link. Patterns are matched against received bytes decoded as Latin-1 (1 byte = 1 char)."""

    def __init__(self, locate_port: PortLocator | str, *, board_id: str | None = None,
                 log: SerialLog | None = None, baudrate: int = DEFAULT_BAUDRATE):
        self._locate = locate_port if callable(locate_port) else (lambda _timeout_s, p=locate_port: p)
        self.board_id = board_id
        self.log = log or SerialLog()
        self.baudrate = baudrate
        self.port: str | None = None
        self._serial: serial.SerialBase | None = None
        self._fd: int | None = None     # the port's file descriptor, when it has one (not rfc2217://)
        self._buffer = bytearray()
        self.reconnects = 0

    # -- opening and closing -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self, timeout_s: float) -> None:
        """Find the port (through the locator) and open it, retrying until the deadline."""
        deadline = Deadline(timeout_s)
        last_error: Exception | None = None

        def opened() -> bool:
            nonlocal last_error
            try:
                port = self._locate(deadline.remaining_s)
                options = {"write_timeout": max(POLL_S, deadline.remaining_s)} if _takes_write_timeout(port) else {}
                self._serial = serial.serial_for_url(_bounded_url(port, deadline.remaining_s), baudrate=self.baudrate,
                                                     timeout=POLL_S, **options)
                self._fd = getattr(self._serial, "fd", None)
                self.port = port
                self.log.note(f"opened {port}")
                return True
            except BoardNotFound:
                raise
            except PORT_ERRORS as error:
                last_error = error
                return False

        if not deadline.poll(opened, REOPEN_RETRY_S):
            raise BoardNotFound(self.board_id or "?", f"cannot open its serial port within "
                                                      f"{seconds_text(timeout_s)} s: {last_error}")

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except PORT_ERRORS:
                pass
            self._serial = None
            self._fd = None
            self.log.note(f"closed {self.port}")

    def reconnect(self, timeout_s: float) -> None:
        """Close and find the port again (after a reset the device re-enumerates, maybe under a new name)."""
        self.close()
        try:
            self.open(timeout_s)
        except BoardNotFound:
            raise PortVanished(self.port or "?", self.board_id, timeout_s) from None
        self.reconnects += 1

    def __enter__(self) -> "SerialTransport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------------------

    def write(self, data: bytes | str, timeout_s: float = 5.0) -> None:
        """Write all of `data`; reconnects once if the port went away."""
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        deadline = Deadline(timeout_s)
        while True:
            if self._serial is None:
                self.reconnect(deadline.remaining_s)
            try:
                if _takes_write_timeout(self.port or ""):
                    self._serial.write_timeout = max(POLL_S, deadline.remaining_s)
                self._serial.write(payload)
                self._serial.flush()
                self.log.record(TX, payload)
                return
            except PORT_ERRORS as error:
                self.log.note(f"write failed: {error}")
                self.close()
                if deadline.expired:
                    raise PortVanished(self.port or "?", self.board_id, timeout_s) from None

    # -- reading --------------------------------------------------------------------------------------------

    def _read_some(self, wait_s: float) -> bytes:
        """Whatever arrives within wait_s (possibly nothing). Raises OSError/SerialException if the port broke."""
        assert self._serial is not None
        fd = self._fd
        if fd is not None:
            # pyserial keeps a posix port non-blocking: while bytes stream in, take them without a select first.
            # (Nothing there reads as EAGAIN or as b"", so only a select tells "no data yet" from "hung up".)
            try:
                data = os.read(fd, READ_CHUNK_BYTES)
                if data:
                    return data
            except BlockingIOError:
                pass
            ready, _, _ = select.select([fd], [], [], wait_s)
            if not ready:
                return b""
            data = os.read(fd, READ_CHUNK_BYTES)
            if not data:  # readable but empty: the other side hung up
                raise OSError(errno.EIO, "port closed by the device")
            return data
        # No fd (rfc2217://): keep the timeout the port was opened with (POLL_S), because changing it makes
        # pyserial renegotiate every port setting with the server, a network round trip per read.
        waiting = self._serial.in_waiting
        if waiting:
            return self._serial.read(waiting)
        if wait_s <= 0:
            return b""
        first = self._serial.read(1)
        if not first:
            return b""
        waiting = self._serial.in_waiting
        return first + (self._serial.read(waiting) if waiting else b"")

    def _fill(self, deadline: Deadline) -> bool:
        """Read one batch into the buffer; handles a vanished port. Returns True if bytes arrived."""
        if self._serial is None:
            self.reconnect(deadline.remaining_s)
        try:
            data = self._read_some(min(POLL_S, deadline.remaining_s))
        except PORT_ERRORS as error:
            self.log.note(f"port lost: {error}")
            self.close()
            self.reconnect(max(deadline.remaining_s, POLL_S))
            return False
        if data:
            self.log.record(RX, data)
            self._buffer += data
            return True
        return False

    def expect(self, pattern: str | re.Pattern | user_pattern.Pattern, timeout_s: float) -> re.Match:
        """Wait until `pattern` (a regex, MULTILINE) matches what was received; consume through the match.

        Raises StepTimeout with the pattern, the tail of what was received and the log path, or GarbledSerial
        if what arrived is mostly not text.
        """
        regex = pattern if isinstance(pattern, (re.Pattern, user_pattern.Pattern)) else re.compile(pattern, re.MULTILINE)
        deadline = Deadline(timeout_s)
        searched_len = -1
        while True:
            if len(self._buffer) != searched_len:
                searched_len = len(self._buffer)
                text = self._buffer.decode("latin-1")
                if isinstance(regex, user_pattern.Pattern):  # a user's pattern: bounded by the step's deadline
                    match = user_pattern.search_within(regex, text, deadline.remaining_s)
                else:
                    match = regex.search(text)
                if match:
                    del self._buffer[: match.end()]
                    return match
            if deadline.expired:
                tail = bytes(self._buffer[-TAIL_BYTES:])
                if looks_garbled(tail):
                    raise GarbledSerial(self.board_id, f"waiting for {regex.pattern!r}, received bytes that are "
                                                       f"not text (wrong baud rate or noise?)", tail, self.log.path)
                raise StepTimeout(regex.pattern, tail, self.log.path, timeout_s, self.board_id)
            self._fill(deadline)

    def read_exactly(self, size_bytes: int, timeout_s: float) -> bytes:
        """The next `size_bytes` bytes, or StepTimeout."""
        deadline = Deadline(timeout_s)
        while len(self._buffer) < size_bytes:
            if deadline.expired:
                raise StepTimeout(f"<{size_bytes} bytes>", bytes(self._buffer[-TAIL_BYTES:]), self.log.path,
                                  timeout_s, self.board_id)
            self._fill(deadline)
        data = bytes(self._buffer[:size_bytes])
        del self._buffer[:size_bytes]
        return data

    def read_available(self, wait_s: float = 0.0) -> bytes:
        """Everything received so far (waiting up to wait_s for something), consumed."""
        deadline = Deadline(wait_s)
        while not self._buffer and not deadline.expired:
            self._fill(deadline)
        if not self._buffer:
            self._fill(Deadline(0))
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def drain(self, quiet_s: float = 0.05, timeout_s: float = 2.0) -> bytes:
        """Discard input until the board has been quiet for quiet_s (bounded by timeout_s)."""
        deadline = Deadline(timeout_s)
        drained = bytearray(self._buffer)
        self._buffer.clear()
        while not deadline.expired:
            if not self._fill(deadline.sub(quiet_s)):
                break
            drained += self._buffer
            self._buffer.clear()
        return bytes(drained)

    def tail(self, size_bytes: int = TAIL_BYTES) -> bytes:
        return bytes(self._buffer[-size_bytes:])
