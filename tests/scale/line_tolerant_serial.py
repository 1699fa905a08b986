"""A serial port that may have no modem control lines: a pseudo-terminal, like the simulated bench's boards.

RFC 2217 clients set DTR/RTS when they open a port and the server reports CTS/DSR/CD to them; a PTY refuses those
ioctls. Here setting a line does nothing and reading one says "up", as a USB CDC port that ignores its lines would.
"""
from __future__ import annotations

import serial


class LineTolerantSerial(serial.Serial):
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

    def _line(self, line: property, absent: bool) -> bool:
        try:
            return line.fget(self)
        except OSError:
            return absent

    @property
    def cts(self) -> bool:
        return self._line(serial.Serial.cts, True)

    @property
    def dsr(self) -> bool:
        return self._line(serial.Serial.dsr, True)

    @property
    def cd(self) -> bool:
        return self._line(serial.Serial.cd, True)

    @property
    def ri(self) -> bool:
        return self._line(serial.Serial.ri, False)
