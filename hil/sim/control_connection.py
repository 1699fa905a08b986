"""One client connection on the supervisor's control socket: JSON lines in, JSON lines out, non-blocking."""
from __future__ import annotations

import json
import socket
from typing import Callable

from hil.sim.reactor import Reactor

READ_CHUNK_BYTES = 65536
MAX_LINE_BYTES = 1024 * 1024   # a request longer than this is a broken client, not a command


class ControlConnection:
    def __init__(self, reactor: Reactor, sock: socket.socket,
                 on_request: Callable[["ControlConnection", dict], None],
                 on_close: Callable[["ControlConnection"], None]):
        self.reactor = reactor
        self.sock = sock
        self.on_request = on_request
        self.on_close = on_close
        self.closed = False
        self._in = b""
        self._out = bytearray()
        sock.setblocking(False)
        reactor.set_reader(sock.fileno(), self._on_readable)

    def send(self, message: dict) -> None:
        if self.closed:
            return
        self._out += (json.dumps(message) + "\n").encode()
        self._flush()

    def _flush(self) -> None:
        try:
            while self._out:
                sent = self.sock.send(self._out)
                del self._out[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self.close()
            return
        self.reactor.set_writer(self.sock.fileno(), self._flush if self._out else None)

    def _on_readable(self) -> None:
        try:
            data = self.sock.recv(READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self._in += data
        while b"\n" in self._in and not self.closed:
            line, self._in = self._in.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self.send({"ok": False, "error": f"not a JSON object: {line[:200]!r}"})
                continue
            self.on_request(self, message)
        if len(self._in) > MAX_LINE_BYTES:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.reactor.forget(self.sock.fileno())
        self.sock.close()
        self.on_close(self)
