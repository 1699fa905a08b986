"""One host-visible serial port of a simulated board: a PTY plus a stable symlink to its current /dev/pts/N.

The supervisor holds only the master side. It does not keep the slave open, so it can tell whether a host has
the port open (a master with no slave open reports POLLHUP and reads fail with EIO). The symlink
`<sim_dir>/<board_id>.usb` (or `.uart0`) is the port's stable name, like /dev/serial/by-id/ on a real host;
re-enumeration closes the PTY, removes the symlink and later opens a new PTY under the same symlink.
"""
from __future__ import annotations

import os
import select
import termios
import tty
from pathlib import Path

TOUCH_BAUD = 1200   # the "1200-baud touch": open at 1200 baud and close asks a Pico to reboot into BOOTSEL
_BAUD_BY_SPEED = {getattr(termios, f"B{b}"): b for b in (
    50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
    460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000)
    if hasattr(termios, f"B{b}")}
_SPEED_ISPEED, _SPEED_OSPEED = 4, 5   # indexes into the termios attribute list


class PtyLink:
    def __init__(self, symlink_path: Path):
        self.symlink_path = Path(symlink_path)
        self.master_fd: int | None = None
        self.pts_path: str | None = None

    @property
    def is_open(self) -> bool:
        return self.master_fd is not None

    def open(self) -> str:
        """Create a new PTY in raw mode at the default speed and point the symlink at it; returns the pts path."""
        if self.master_fd is not None:
            raise RuntimeError(f"{self.symlink_path}: PTY already open")
        master_fd, slave_fd = os.openpty()
        try:
            tty.setraw(slave_fd)
            attrs = termios.tcgetattr(slave_fd)
            attrs[_SPEED_ISPEED] = attrs[_SPEED_OSPEED] = termios.B115200
            termios.tcsetattr(slave_fd, termios.TCSANOW, attrs)
            pts_path = os.ttyname(slave_fd)
        finally:
            os.close(slave_fd)
        os.set_blocking(master_fd, False)
        self.master_fd = master_fd
        self.pts_path = pts_path
        # Replace the symlink atomically so a reader never sees a half-made link.
        tmp = self.symlink_path.with_name(self.symlink_path.name + ".new")
        tmp.unlink(missing_ok=True)
        os.symlink(pts_path, tmp)
        os.replace(tmp, self.symlink_path)
        return pts_path

    def close(self) -> None:
        """Remove the symlink, then close the PTY (a host holding the port sees EIO, as on a USB unplug)."""
        self.symlink_path.unlink(missing_ok=True)
        if self.master_fd is not None:
            os.close(self.master_fd)
        self.master_fd = None
        self.pts_path = None

    def host_attached(self) -> bool:
        """Whether some process has the port (the PTY slave) open now."""
        if self.master_fd is None:
            return False
        poller = select.poll()
        poller.register(self.master_fd, select.POLLIN)
        return not any(mask & select.POLLHUP for _, mask in poller.poll(0))

    def baud(self) -> int | None:
        """The speed the host last set on the port (the PTY keeps it after the host closes it)."""
        if self.master_fd is None:
            return None
        # On a PTY master, tcgetattr reports the slave's settings: what the host program asked for.
        return _BAUD_BY_SPEED.get(termios.tcgetattr(self.master_fd)[_SPEED_OSPEED])

    def reset_baud(self) -> None:
        """Put the port back to the default speed, so one 1200-baud touch is seen once."""
        if self.master_fd is None:
            return
        attrs = termios.tcgetattr(self.master_fd)
        attrs[_SPEED_ISPEED] = attrs[_SPEED_OSPEED] = termios.B115200
        termios.tcsetattr(self.master_fd, termios.TCSANOW, attrs)
