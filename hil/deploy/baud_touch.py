"""The 1200-baud touch: opening a Pico's USB serial port at 1200 baud and closing it asks the firmware to reboot
into BOOTSEL.

pico-sdk's stdio_usb honours it by default (PICO_STDIO_USB_ENABLE_RESET_VIA_BAUD_RATE), MicroPython's rp2 port
does too, and Rust firmware only if it implements it. Whether it worked is seen by the board's port going away
(and a BOOTSEL device appearing), which the caller checks.
"""
from __future__ import annotations

import serial

from hil.errors import ProvisionError

TOUCH_BAUDRATE = 1200
OPEN_TIMEOUT_S = 1.0


def touch_1200_baud(port: str, board_id: str) -> None:
    """Open `port` at 1200 baud and close it again. The port vanishing afterwards is the expected outcome."""
    try:
        link = serial.serial_for_url(port, baudrate=TOUCH_BAUDRATE, timeout=OPEN_TIMEOUT_S,
                                     write_timeout=OPEN_TIMEOUT_S)
    except (serial.SerialException, OSError) as error:
        raise ProvisionError(board_id, f"1200-baud touch: cannot open {port}: {error}") from error
    try:
        link.dtr = False   # the host dropping DTR at 1200 baud is what the firmware watches for
    except (serial.SerialException, OSError):
        pass               # a PTY or network port has no DTR; the baud rate change is what counts then
    finally:
        try:
            link.close()
        except (serial.SerialException, OSError):
            pass           # the device may already be gone: that is the point
