"""The `sim` bench kind: boards simulated by the supervisor. Opens without a file, and is the default bench."""
from __future__ import annotations

from hil.bench.bench_kind import BenchKind

LINK_MODELS = ("usb-fs", "none")
FIRMWARE_KEY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "the images a simulated Pico runs (paths relative to this file's folder)",
    "properties": {
        "bootrom": {"type": "string", "minLength": 1, "description": "the RP2040 bootrom (16 KiB .bin)"},
        "micropython_uf2": {"type": "string", "minLength": 1, "description": "a MicroPython RPI_PICO .uf2"},
    },
}


def _open(config):
    from hil.sim.sim_bench import SimBench
    return SimBench.from_config(config)


def _clock_domains() -> dict[str, str]:
    from hil.sim.sim_bench import CLOCK_DOMAINS
    return dict(CLOCK_DOMAINS)


def sim_kind() -> BenchKind:
    return BenchKind(name="sim", open_bench=_open, clock_domains=_clock_domains(),
                     file_keys={"link": {"enum": list(LINK_MODELS), "description": "the serial link timing model"},
                                "firmware": FIRMWARE_KEY_SCHEMA},
                     opens_without_file=True, default=True, cli_commands=("hil.sim.sim_command",))
