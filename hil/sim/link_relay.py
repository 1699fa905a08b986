"""Relays one serial link of a simulated board between its PTY (the host's side) and the board process's
socket, through the link model, on the supervisor's reactor.

Board output is dropped while no host has the port open, as a Pico's USB CDC does when no host has the port
open; host input reaches the board process whenever one is attached. Each direction stops reading its source
while too much is buffered (back-pressure instead of unbounded memory).
"""
from __future__ import annotations

import errno
import os
import socket
from typing import Callable

from hil.sim.link_model import LinkModel
from hil.sim.pty_link import TOUCH_BAUD, PtyLink
from hil.sim.reactor import Reactor
from hil.sim.relay_direction import RelayDirection

READ_CHUNK_BYTES = 65536
MAX_BUFFERED_BYTES = 256 * 1024   # per direction; reading the source pauses above this
RESUME_BUFFERED_BYTES = MAX_BUFFERED_BYTES // 2


class LinkRelay:
    def __init__(self, reactor: Reactor, name: str, pty: PtyLink, model: LinkModel,
                 on_touch: Callable[[], None] | None = None, on_port_change: Callable[[], None] | None = None):
        self.reactor = reactor
        self.name = name
        self.pty = pty
        self.model = model
        self.on_touch = on_touch               # called on a 1200-baud touch (USB links only)
        self.on_port_change = on_port_change   # called when the port appears or disappears
        self.sock: socket.socket | None = None
        self.host_attached = False
        self.to_board = RelayDirection(model.new_schedule())
        self.to_host = RelayDirection(model.new_schedule())
        self.bytes_to_board = 0
        self.bytes_to_host = 0
        self._reading_host = False
        self._reading_board = False
        self._board_eof = False

    # ---- the board side
    def attach_board(self, sock: socket.socket) -> None:
        self.detach_board()
        sock.setblocking(False)
        self.sock = sock
        self._board_eof = False
        self.to_board.clear()
        self._set_board_reading(True)

    def detach_board(self) -> None:
        if self.sock is None:
            return
        self.reactor.forget(self.sock.fileno())
        self._reading_board = False
        self.sock.close()
        self.sock = None
        self.to_board.clear()
        self.to_host.clear()

    # ---- the host side
    @property
    def port_open(self) -> bool:
        return self.pty.is_open

    def open_port(self) -> str:
        pts = self.pty.open()
        self.host_attached = False
        if self.on_port_change:
            self.on_port_change()
        return pts

    def close_port(self) -> None:
        if self.pty.master_fd is not None:
            self.reactor.forget(self.pty.master_fd)
        self._reading_host = False
        self.host_attached = False
        self.pty.close()
        self.to_host.clear()
        if self.on_port_change:
            self.on_port_change()

    def poll_host(self) -> None:
        """Periodic check while no host holds the port: did one open it, or touch it at 1200 baud?"""
        if not self.pty.is_open or self.host_attached:
            return
        if self.pty.host_attached():
            self.host_attached = True
            self._set_host_reading(True)
        else:
            self._check_touch()

    def _check_touch(self) -> None:
        if self.on_touch and self.pty.baud() == TOUCH_BAUD:
            self.pty.reset_baud()
            self.on_touch()

    def _host_detached(self) -> None:
        if self.pty.master_fd is not None:
            self.reactor.forget(self.pty.master_fd)
        self._reading_host = False
        self.host_attached = False
        self.to_host.clear()
        self._check_touch()

    # ---- reading
    def _set_host_reading(self, enabled: bool) -> None:
        if self.pty.master_fd is None or enabled == self._reading_host:
            return
        self._reading_host = enabled
        self.reactor.set_reader(self.pty.master_fd, self._on_host_readable if enabled else None)

    def _set_board_reading(self, enabled: bool) -> None:
        if self.sock is None or enabled == self._reading_board or (enabled and self._board_eof):
            return
        self._reading_board = enabled
        self.reactor.set_reader(self.sock.fileno(), self._on_board_readable if enabled else None)

    def _on_host_readable(self) -> None:
        try:
            data = os.read(self.pty.master_fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno == errno.EIO:   # the host closed the port
                self._host_detached()
                return
            raise
        if not data:
            self._host_detached()
            return
        if self.sock is None:
            return   # no board process right now: like writing to a port whose device is resetting
        self.bytes_to_board += len(data)
        self.to_board.accept(self.reactor.now_s(), data)
        self._service(self.reactor.now_s())

    def _on_board_readable(self) -> None:
        try:
            data = self.sock.recv(READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            # The board process closed its end (it is exiting); the supervisor restarts it if needed.
            self._board_eof = True
            self._set_board_reading(False)
            return
        if not self.host_attached:
            self.poll_host()   # a host may have opened the port since the last periodic check
        if not self.host_attached:
            return   # nobody has the port open: a Pico's CDC output goes nowhere too
        self.bytes_to_host += len(data)
        self.to_host.accept(self.reactor.now_s(), data)
        self._service(self.reactor.now_s())

    # ---- writing
    def _write_board(self, view: memoryview) -> int:
        return self.sock.send(view)

    def _write_host(self, view: memoryview) -> int:
        return os.write(self.pty.master_fd, view)

    def _service(self, now_s: float) -> None:
        if self.sock is not None:
            self.to_board.release_due(now_s)
            try:
                done = self.to_board.write_to(self._write_board)
            except OSError:
                done = True   # the board process went away; its exit is handled by the supervisor
                self.to_board.clear()
            self.reactor.set_writer(self.sock.fileno(), None if done else self._on_board_writable)
        if self.pty.master_fd is not None and self.host_attached:
            self.to_host.release_due(now_s)
            try:
                done = self.to_host.write_to(self._write_host)
            except OSError:
                self._host_detached()
                done = True
            if self.pty.master_fd is not None and self.host_attached:
                self.reactor.set_writer(self.pty.master_fd, None if done else self._on_host_writable)
        # Back-pressure: pause a source while its direction holds too much, resume once it has drained.
        if self.to_board.buffered_bytes > MAX_BUFFERED_BYTES:
            self._set_host_reading(False)
        elif self.host_attached and self.to_board.buffered_bytes < RESUME_BUFFERED_BYTES:
            self._set_host_reading(True)
        if self.to_host.buffered_bytes > MAX_BUFFERED_BYTES:
            self._set_board_reading(False)
        elif self.to_host.buffered_bytes < RESUME_BUFFERED_BYTES:
            self._set_board_reading(True)

    def _on_board_writable(self) -> None:
        self._service(self.reactor.now_s())

    def _on_host_writable(self) -> None:
        self._service(self.reactor.now_s())

    # ---- Reactor pump
    def next_due_s(self) -> float | None:
        dues = [d for d in (self.to_board.next_due_s(), self.to_host.next_due_s()) if d is not None]
        return min(dues) if dues else None

    def pump(self, now_s: float) -> None:
        if self.to_board.next_due_s() is not None or self.to_host.next_due_s() is not None:
            self._service(now_s)

    def close(self) -> None:
        self.detach_board()
        self.close_port()
