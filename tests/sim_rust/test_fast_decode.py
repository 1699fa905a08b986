"""The emulated chip's fast instruction executor (hil/sim/node/rp2040_fast_decode.mjs) has rp2040js's own
effects: every 16-bit first halfword, from random machine states (PC even and odd, registers pointing into SRAM,
flash and anywhere), executed once by each and compared (fast_decode_diff.mjs)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hil.process import run_tool

DIFF_SCRIPT = Path(__file__).resolve().with_name("fast_decode_diff.mjs")
STATES_PER_OPCODE = 2
OPCODES = 0x10000
DIFF_TIMEOUT_S = 300.0

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_diff(seed: int) -> dict:
    result = run_tool(["node", str(DIFF_SCRIPT), str(seed), str(STATES_PER_OPCODE)], DIFF_TIMEOUT_S)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("seed", [1, 20261201])
def test_every_opcode_has_rp2040js_effects(seed):
    outcome = run_diff(seed)
    assert outcome["cases"] == OPCODES * STATES_PER_OPCODE
    assert outcome["mismatch_count"] == 0, json.dumps(outcome["mismatches"][:5], indent=1)
    assert outcome["sram_agrees"] and outcome["flash_agrees"]
