"""One client of the test RFC 2217 server: the serial port opened for it, and bytes pumped both ways through
pyserial's `PortManager` (which handles the Telnet/RFC 2217 side: options, escaping, port settings)."""
from __future__ import annotations

import socket
import threading

import serial
import serial.rfc2217

from tests.scale.line_tolerant_serial import LineTolerantSerial

PORT_READ_TIMEOUT_S = 0.05     # longest wait of one read from the port, so a closed connection is noticed promptly
NET_POLL_S = 0.1               # longest wait of one read from the network, so a stop is noticed promptly
NET_READ_BYTES = 4096
JOIN_TIMEOUT_S = 2.0


class Rfc2217Connection:
    def __init__(self, client: socket.socket, port_path: str, stop: threading.Event):
        self.client = client
        self.port_path = port_path
        self._stop = stop
        self._write_lock = threading.Lock()
        self._done = threading.Event()
        self.bytes_to_port = 0
        self.bytes_from_port = 0

    def write(self, data: bytes) -> None:
        """To the client; PortManager calls it from both pumps, so it must be thread-safe."""
        with self._write_lock:
            self.client.sendall(data)

    def serve(self) -> None:
        """Open the port (as ser2net does, per connection) and pump until either side closes or stop is set."""
        self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.settimeout(NET_POLL_S)
        try:
            port = LineTolerantSerial(self.port_path, timeout=PORT_READ_TIMEOUT_S)
        except (serial.SerialException, OSError):
            return   # the client sees the connection close, as with ser2net when the device is absent
        manager = serial.rfc2217.PortManager(port, self)
        pump = threading.Thread(target=self._port_to_client, args=(port, manager), daemon=True)
        pump.start()
        try:
            self._client_to_port(port, manager)
        finally:
            self._done.set()
            pump.join(JOIN_TIMEOUT_S)
            port.close()

    def _client_to_port(self, port: serial.Serial, manager: serial.rfc2217.PortManager) -> None:
        while not self._done.is_set() and not self._stop.is_set():
            try:
                data = self.client.recv(NET_READ_BYTES)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return   # the client left
            payload = b"".join(manager.filter(data))
            if payload:
                try:
                    port.write(payload)
                except (serial.SerialException, OSError):
                    return   # the port went away: closing the connection tells the client
                self.bytes_to_port += len(payload)

    def _port_to_client(self, port: serial.Serial, manager: serial.rfc2217.PortManager) -> None:
        try:
            while not self._done.is_set():
                data = port.read(port.in_waiting or 1)
                if data:
                    self.bytes_from_port += len(data)
                    self.write(b"".join(manager.escape(data)))
        except (serial.SerialException, OSError):
            pass
        finally:
            self._done.set()
