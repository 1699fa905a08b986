"""The delivery scheduler of one direction of one simulated link (see `hil.sim.link_model`).

Frames are numbered on a fixed grid: frame k starts at `k * frame_period_s` of the clock the caller uses (the
relay uses the host's monotonic clock). Bytes that arrive during frame k-1 (or exactly at its start) go out at
the start of frame k at the earliest, in arrival order, at most `frame_capacity_bytes` per frame; what does not
fit waits for the following frames. Delivery order always equals arrival order.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hil.sim.link_model import LinkModel

Delivery = tuple[float, int]   # (deliver_at_s, size_bytes)


class LinkSchedule:
    def __init__(self, model: "LinkModel"):
        self.model = model
        self._last_frame = -math.inf   # index of the latest frame that carries data
        self._last_frame_used_bytes = 0

    def submit(self, arrival_s: float, size_bytes: int) -> list[Delivery]:
        """When each part of `size_bytes` bytes arriving at `arrival_s` is delivered, earliest first."""
        if size_bytes <= 0:
            return []
        if not self.model.enabled:
            return [(arrival_s, size_bytes)]
        period_s = self.model.frame_period_s
        capacity = self.model.frame_capacity_bytes
        # The next boundary strictly after the arrival: a byte never crosses the link within its own frame.
        frame = math.floor(arrival_s / period_s) + 1
        used = 0
        if frame <= self._last_frame:
            frame = int(self._last_frame)
            used = self._last_frame_used_bytes
            if used >= capacity:
                frame, used = frame + 1, 0
        deliveries: list[Delivery] = []
        remaining = size_bytes
        while remaining > 0:
            part = min(remaining, capacity - used)
            deliveries.append((frame * period_s, part))
            remaining -= part
            used += part
            if remaining > 0:
                frame, used = frame + 1, 0
        self._last_frame = frame
        self._last_frame_used_bytes = used
        return deliveries

    def reset(self) -> None:
        """Forget queued traffic (the link was re-created)."""
        self._last_frame = -math.inf
        self._last_frame_used_bytes = 0
