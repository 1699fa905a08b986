"""A local RFC 2217 server in front of a serial port, as ser2net exports a Pico's port on another host.

Built on pyserial's own `serial.rfc2217.PortManager` (the server half of the protocol). Like ser2net, the port is
opened when a client connects and closed when it leaves, so a port that disappeared and came back (a Pico's USB
re-enumeration) is found again by the client's next connection. One client at a time, as on a real export.
"""
from __future__ import annotations

import socket
import threading

from tests.scale.rfc2217_connection import Rfc2217Connection

ACCEPT_POLL_S = 0.1            # how often the accept loop looks at the stop flag
LISTEN_BACKLOG = 1
JOIN_TIMEOUT_S = 2.0


class Rfc2217Server:
    def __init__(self, port_path: str, host: str = "127.0.0.1", tcp_port: int = 0):
        self.port_path = port_path
        self._listener = socket.create_server((host, tcp_port), backlog=LISTEN_BACKLOG)
        self._listener.settimeout(ACCEPT_POLL_S)
        self.host, self.tcp_port = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self.connections_served = 0
        self._thread = threading.Thread(target=self._accept_loop, name=f"rfc2217-{self.tcp_port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"rfc2217://{self.host}:{self.tcp_port}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT_S)
        self._listener.close()

    def __enter__(self) -> "Rfc2217Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections_served += 1
            try:
                Rfc2217Connection(client, self.port_path, self._stop).serve()
            finally:
                client.close()
