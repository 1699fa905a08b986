"""The timing model of a simulated serial link: when does a byte written on one side arrive on the other.

A Pico's USB serial port is a USB full-speed CDC device: the host moves bulk data in 64-byte packets inside 1 ms
frames, at most 19 bulk packets per frame per direction, so a byte written now is seen by the other side no
earlier than the next frame boundary, every change of direction costs about a frame, and throughput caps near
1.216 MB/s. The supervisor's relay asks a `LinkModel` for one schedule per direction and delivers each chunk at
the time the schedule gives; `LinkModel.none()` delivers immediately (a bare PTY).

The scheduler is pure: it is given arrival times and sizes and answers delivery times, so it is tested without
any PTY or clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hil.sim.link_schedule import LinkSchedule

USB_FS_FRAME_PERIOD_S = 0.001          # USB full-speed start-of-frame interval
USB_FS_BULK_PACKET_BYTES = 64          # full-speed bulk max packet size
USB_FS_BULK_PACKETS_PER_FRAME = 19     # practical full-speed bulk packets per frame (64 B x 19 = 1216 B per ms)
LINK_NAMES = ("usb-fs", "none")


@dataclass(frozen=True)
class LinkModel:
    """Link timing parameters; `frame_period_s == 0` means no model (immediate delivery)."""

    name: str
    frame_period_s: float
    packets_per_frame: int
    packet_size_bytes: int

    @classmethod
    def usb_fs(cls) -> "LinkModel":
        return cls("usb-fs", USB_FS_FRAME_PERIOD_S, USB_FS_BULK_PACKETS_PER_FRAME, USB_FS_BULK_PACKET_BYTES)

    @classmethod
    def none(cls) -> "LinkModel":
        return cls("none", 0.0, 0, 0)

    @classmethod
    def from_name(cls, name: str) -> "LinkModel":
        if name == "usb-fs":
            return cls.usb_fs()
        if name == "none":
            return cls.none()
        raise ValueError(f"unknown link model {name!r} (known: {', '.join(LINK_NAMES)})")

    def __post_init__(self) -> None:
        if self.frame_period_s < 0:
            raise ValueError(f"frame_period_s must be >= 0, got {self.frame_period_s}")
        if self.enabled and (self.packets_per_frame < 1 or self.packet_size_bytes < 1):
            raise ValueError("a timed link needs packets_per_frame >= 1 and packet_size_bytes >= 1")

    @property
    def enabled(self) -> bool:
        return self.frame_period_s > 0

    @property
    def frame_capacity_bytes(self) -> int:
        """Bytes one direction can carry in one frame (packets are filled before a new one is started)."""
        return self.packets_per_frame * self.packet_size_bytes

    @property
    def max_throughput_bytes_per_s(self) -> float:
        return math.inf if not self.enabled else self.frame_capacity_bytes / self.frame_period_s

    def describe(self) -> dict:
        return {"name": self.name, "frame_period_s": self.frame_period_s,
                "packets_per_frame": self.packets_per_frame, "packet_size_bytes": self.packet_size_bytes}

    def new_schedule(self) -> LinkSchedule:
        """A fresh scheduler for one direction of one link."""
        return LinkSchedule(self)
