"""How long flashing takes on real hardware, so deploy times on the simulated bench resemble a Pico's.

Rates are published figures (docs/sim-rust.md): probe-rs on an RP2040 erases at 46.3 KiB/s and programs at
29.2 KiB/s; `picotool load --verify` of a ~300 KiB image takes 4.8 s. `HIL_SIM_FLASH_TIMING=instant` turns the
waits off (for the stand-ins' own tests).
"""
from __future__ import annotations

import math
import os
import time

FLASH_TIMING_ENV = "HIL_SIM_FLASH_TIMING"
TIMING_REAL = "real"
TIMING_INSTANT = "instant"
KIB = 1024
FLASH_SECTOR_BYTES = 4096
PROBE_RS_ATTACH_S = 0.08
PROBE_RS_ERASE_BYTES_PER_S = 46.3 * KIB
PROBE_RS_PROGRAM_BYTES_PER_S = 29.2 * KIB
PROBE_RS_VERIFY_BYTES_PER_S = 120 * KIB  # reading back over SWD is several times faster than programming
PICOTOOL_LOAD_BYTES_PER_S = 96 * KIB  # erase + program through the bootrom (picoboot)
PICOTOOL_VERIFY_BYTES_PER_S = 192 * KIB  # 300 KiB: 3.1 s load + 1.6 s verify = the published 4.8 s
BOOTSEL_ENUMERATION_S = 0.25  # after a reboot into BOOTSEL, the RP2 Boot device appears this much later


def timing_mode() -> str:
    mode = os.environ.get(FLASH_TIMING_ENV, TIMING_REAL)
    return mode if mode in (TIMING_REAL, TIMING_INSTANT) else TIMING_REAL


def erased_bytes(size_bytes: int) -> int:
    return math.ceil(size_bytes / FLASH_SECTOR_BYTES) * FLASH_SECTOR_BYTES


def wait_modelled(duration_s: float, already_spent_s: float = 0.0) -> None:
    """Sleep for what is left of `duration_s` after `already_spent_s` (nothing in instant mode)."""
    if timing_mode() == TIMING_INSTANT:
        return
    left_s = duration_s - already_spent_s
    if left_s > 0:
        time.sleep(left_s)
