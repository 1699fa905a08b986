"""The `sim` bench kind: boards simulated by the supervisor. Opens without a file, and is the default bench."""
from __future__ import annotations

from hil.bench.bench_kind import BenchKind
from hil.errors import ConfigError

LINK_MODELS = ("usb-fs", "none")
# Keys that find or flash a real board; on a simulated bench they would be silently ignored, so they are refused.
HARDWARE_KEYS = ("serial_number", "vid_pid", "port", "uart_port", "probe")
FIRMWARE_KEY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "the images a simulated Pico runs (paths relative to this file's folder)",
    "properties": {
        "bootrom": {"type": "string", "minLength": 1, "description": "the RP2040 bootrom (16 KiB .bin)"},
        "micropython_uf2": {"type": "string", "minLength": 1, "description": "a MicroPython RPI_PICO .uf2"},
    },
}


def _check_board(entry, path: str, key: str) -> None:
    for hardware_key in HARDWARE_KEYS:
        if hardware_key in entry:
            raise ConfigError(path, entry.line_of(hardware_key), f"{key}.{hardware_key}",
                              "a sim bench makes its own boards: it has no serial numbers, ports or probes "
                              "(remove the key, or use kind: physical)")


def _open(config):
    from hil.sim.sim_bench import SimBench
    return SimBench.from_config(config)


def _clock_domains() -> dict[str, str]:
    from hil.sim.sim_bench import CLOCK_DOMAINS
    return dict(CLOCK_DOMAINS)


def sim_kind() -> BenchKind:
    return BenchKind(name="sim", open_bench=_open, clock_domains=_clock_domains(), check_board=_check_board,
                     file_keys={"link": {"enum": list(LINK_MODELS), "description": "the serial link timing model"},
                                "firmware": FIRMWARE_KEY_SCHEMA},
                     opens_without_file=True, default=True, cli_commands=("hil.sim.sim_command",))
