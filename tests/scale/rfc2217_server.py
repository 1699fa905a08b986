"""A local RFC 2217 server in front of a serial port, as ser2net exports a Pico's port on another host.

Built on pyserial's own `serial.rfc2217.PortManager` (the server half of the protocol). Like ser2net, the port is
opened when a client connects and closed when it leaves, so a port that disappeared and came back (a Pico's USB
re-enumeration) is found again by the client's next connection. One client at a time, as on a real export.
"""
from __future__ import annotations

import socket
import threading

import serial
import serial.rfc2217

ACCEPT_POLL_S = 0.1            # how often the accept loop looks at the stop flag
PORT_READ_TIMEOUT_S = 0.05     # longest wait of one read from the port, so a closed connection is noticed promptly
NET_READ_BYTES = 4096
LISTEN_BACKLOG = 1
JOIN_TIMEOUT_S = 2.0


class _LineTolerantSerial(serial.Serial):
    """A port that may have no modem control lines (a pseudo-terminal, like the simulated bench's boards).

    RFC 2217 clients set DTR/RTS on open and the server reports CTS/DSR/CD; a PTY refuses those ioctls. Here
    setting a line is a no-op and reading one says "up", as a USB CDC port that ignores its lines would.
    """

    def _update_dtr_state(self) -> None:
        try:
            super()._update_dtr_state()
        except OSError:
            pass

    def _update_rts_state(self) -> None:
        try:
            super()._update_rts_state()
        except OSError:
            pass

    def _line(self, read) -> bool:
        try:
            return read()
        except OSError:
            return True

    @property
    def cts(self) -> bool:
        return self._line(lambda: serial.Serial.cts.fget(self))

    @property
    def dsr(self) -> bool:
        return self._line(lambda: serial.Serial.dsr.fget(self))

    @property
    def cd(self) -> bool:
        return self._line(lambda: serial.Serial.cd.fget(self))

    @property
    def ri(self) -> bool:
        try:
            return serial.Serial.ri.fget(self)
        except OSError:
            return False


class Rfc2217Server:
    def __init__(self, port_path: str, host: str = "127.0.0.1", tcp_port: int = 0):
        self.port_path = port_path
        self._listener = socket.create_server((host, tcp_port), backlog=LISTEN_BACKLOG)
        self._listener.settimeout(ACCEPT_POLL_S)
        self.host, self.tcp_port = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self.connections_served = 0
        self.bytes_to_port = 0
        self.bytes_from_port = 0
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
                connection, _address = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections_served += 1
            try:
                self._serve(connection)
            finally:
                connection.close()

    def _serve(self, connection: socket.socket) -> None:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            port = _LineTolerantSerial(self.port_path, timeout=PORT_READ_TIMEOUT_S)
        except (serial.SerialException, OSError):
            return   # the client sees the connection close, as with ser2net when the device is absent
        write_lock = threading.Lock()

        class _Network:
            """What PortManager writes its Telnet answers to (it asks for a thread-safe write)."""

            @staticmethod
            def write(data: bytes) -> None:
                with write_lock:
                    connection.sendall(data)

        manager = serial.rfc2217.PortManager(port, _Network())
        done = threading.Event()
        pump = threading.Thread(target=self._port_to_network, args=(port, manager, _Network, done), daemon=True)
        pump.start()
        try:
            while not done.is_set() and not self._stop.is_set():
                connection.settimeout(ACCEPT_POLL_S)
                try:
                    data = connection.recv(NET_READ_BYTES)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not data:
                    break
                payload = b"".join(manager.filter(data))
                if payload:
                    port.write(payload)
                    self.bytes_to_port += len(payload)
        except (serial.SerialException, OSError):
            pass   # the port went away: closing the connection tells the client
        finally:
            done.set()
            pump.join(JOIN_TIMEOUT_S)
            port.close()

    def _port_to_network(self, port: serial.Serial, manager, network, done: threading.Event) -> None:
        try:
            while not done.is_set():
                data = port.read(port.in_waiting or 1)
                if data:
                    self.bytes_from_port += len(data)
                    network.write(b"".join(manager.escape(data)))
        except (serial.SerialException, OSError):
            pass
        finally:
            done.set()
