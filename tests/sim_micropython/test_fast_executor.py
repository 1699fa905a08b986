"""The fast executor computes what rp2040js's own executor computes: the official MicroPython firmware boots,
sorts and answers on two fresh chips, one per executor, and everything virtual is identical (the sort's
microseconds, virtual time and cycles at the answer, a hash of SRAM and the core's registers there)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hil.process import run_tool
from hil.sim.firmware_images import locate_images, uf2_flash_payload

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mpy_compute.mjs"
SORT_VALUES = 40
ROUNDS = 1
FLASH_BYTES = 2 * 1024 * 1024
RUN_TIMEOUT_S = 300.0
VIRTUAL_FIELDS = ("sort_us", "sorted", "virtual_ns", "cycles", "state")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def test_fast_executor_computes_what_rp2040js_computes(tmp_path):
    images = locate_images(need_micropython=True)
    uf2 = images.micropython_uf2.path
    payload = uf2_flash_payload(uf2, uf2.read_bytes())
    flash = tmp_path / "flash.bin"
    flash.write_bytes(payload + b"\xff" * (FLASH_BYTES - len(payload)))
    result = run_tool(["node", str(SCRIPT), str(images.bootrom.path), str(flash), str(SORT_VALUES), str(ROUNDS)],
                      RUN_TIMEOUT_S)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    reference, fast = measured["reference"][0], measured["fast"][0]
    assert reference["sorted"] is True
    assert reference["sort_us"] > 0
    assert {k: fast[k] for k in VIRTUAL_FIELDS} == {k: reference[k] for k in VIRTUAL_FIELDS}
