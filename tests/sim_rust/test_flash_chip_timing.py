"""The emulated flash chip takes a W25Q16JV's typical erase and program times in virtual time: status BUSY is set
for that long and the chip ignores write-type commands meanwhile (flash_chip_timing.mjs drives it on its own
clock)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hil.process import run_tool

SCRIPT = Path(__file__).resolve().with_name("flash_chip_timing.mjs")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def test_erase_and_program_keep_the_chip_busy_for_their_datasheet_time():
    seen = json.loads(run_tool(["node", str(SCRIPT)], 60.0).stdout.strip().splitlines()[-1])
    assert seen["erased"] and seen["programmed"]
    assert seen["busy_after_erase"] and seen["busy_at_44_9_ms"] and not seen["busy_at_45_1_ms"]   # tSE 45 ms
    assert seen["busy_after_program"] and not seen["busy_0_41_ms_after_program"]                  # tPP 0.4 ms
    assert seen["erase_while_busy_ignored"]
    assert not seen["write_enable_latch_after_erase"]
    assert not seen["busy_after_incomplete_erase"]
