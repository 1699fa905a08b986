"""The `physical` bench kind: real Picos named in a bench file (the kind of a bench file without `kind:`)."""
from __future__ import annotations

from hil.bench.bench_kind import BenchKind
from hil.bench.board_spec import DEFAULT_FLASH_METHOD, Runtime
from hil.errors import ConfigError


def _check_board(entry, path: str, key: str) -> None:
    if not entry.get("serial_number") and not entry.get("port"):
        raise ConfigError(path, entry.line, f"{key}.serial_number",
                          "a physical board needs serial_number (preferred) or port to be found")
    if entry.get("flash", DEFAULT_FLASH_METHOD[entry["runtime"]]) == "probe-rs" and not entry.get("probe"):
        raise ConfigError(path, entry.line, f"{key}.probe",
                          "flash: probe-rs needs the probe's VID:PID:SERIAL (see `hil boards`)")


def _open(config):
    from hil.bench.physical_bench import PhysicalBench
    return PhysicalBench(config)


# Both runtimes time themselves on the Pico's own 1 MHz timer.
PHYSICAL_KIND = BenchKind(name="physical", open_bench=_open, clock_domains={runtime: "device" for runtime in Runtime},
                          check_board=_check_board, file_default=True)
