"""One direction of a relayed link: bytes accepted from one side, held until the link model says they arrive,
then written to the other side as fast as it takes them."""
from __future__ import annotations

from collections import deque
from typing import Callable

from hil.sim.link_schedule import LinkSchedule

WriteFn = Callable[[memoryview], int]   # writes what it can, returns the count; BlockingIOError when full


class RelayDirection:
    def __init__(self, schedule: LinkSchedule):
        self.schedule = schedule
        self._in_flight: deque[tuple[float, bytes]] = deque()
        self._in_flight_bytes = 0
        self._out = bytearray()

    @property
    def buffered_bytes(self) -> int:
        return self._in_flight_bytes + len(self._out)

    def accept(self, now_s: float, data: bytes) -> None:
        offset = 0
        for due_s, size_bytes in self.schedule.submit(now_s, len(data)):
            self._in_flight.append((due_s, data[offset:offset + size_bytes]))
            offset += size_bytes
        self._in_flight_bytes += len(data)

    def next_due_s(self) -> float | None:
        return self._in_flight[0][0] if self._in_flight else None

    def release_due(self, now_s: float) -> None:
        """Move every chunk whose delivery time has come to the output buffer."""
        while self._in_flight and self._in_flight[0][0] <= now_s:
            _, chunk = self._in_flight.popleft()
            self._in_flight_bytes -= len(chunk)
            self._out += chunk

    def write_to(self, write: WriteFn) -> bool:
        """Write released bytes; returns True when everything released has been written."""
        while self._out:
            try:
                written = write(memoryview(self._out))
            except BlockingIOError:
                return False
            if written <= 0:
                return False
            del self._out[:written]
        return True

    def clear(self) -> None:
        self._in_flight.clear()
        self._in_flight_bytes = 0
        self._out.clear()
        self.schedule.reset()
