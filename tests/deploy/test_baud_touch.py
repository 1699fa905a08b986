"""The 1200-baud touch opens the port at 1200 baud and closes it; a port that cannot be opened is an error."""
from __future__ import annotations

import os
import termios
import tty

import pytest

from hil.deploy.baud_touch import touch_1200_baud
from hil.errors import ProvisionError

SPEED_FIELDS = slice(4, 6)   # tcgetattr: ispeed, ospeed


def test_the_port_is_left_at_1200_baud_as_a_usb_cdc_device_sees_it():
    master_fd, slave_fd = os.openpty()
    tty.setraw(slave_fd)
    termios.tcsetattr(slave_fd, termios.TCSANOW,
                      termios.tcgetattr(slave_fd)[:4] + [termios.B115200, termios.B115200]
                      + [termios.tcgetattr(slave_fd)[6]])
    try:
        touch_1200_baud(os.ttyname(slave_fd), "rust")
        assert termios.tcgetattr(slave_fd)[SPEED_FIELDS] == [termios.B1200, termios.B1200]
    finally:
        os.close(master_fd)
        os.close(slave_fd)


def test_a_port_that_cannot_be_opened_is_a_provision_error(tmp_path):
    with pytest.raises(ProvisionError, match="1200-baud touch: cannot open"):
        touch_1200_baud(str(tmp_path / "ttyACM7"), "rust")
