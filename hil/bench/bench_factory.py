"""Turning the --hil-bench setting into a Bench: `sim` (the default) or a bench file."""
from __future__ import annotations

from pathlib import Path

from hil.bench.bench import Bench
from hil.bench.bench_file import BenchConfig, load_bench_file
from hil.errors import ConfigError
from hil.user_file import UserFileMissing

SIM_BENCH = "sim"


def load_bench_config(selector: str) -> BenchConfig | None:
    """The validated bench file named by `selector`, or None for the built-in simulated bench."""
    if selector == SIM_BENCH:
        return None
    try:
        return load_bench_file(Path(selector))
    except UserFileMissing:
        raise ConfigError(selector, None, None,
                          f"bench file not found (use '{SIM_BENCH}' for the simulated bench, or a bench YAML file)") from None


def open_bench(selector: str) -> Bench:
    """A bench, not yet started. A bench file is never replaced by the simulator: what it names must be there."""
    config = load_bench_config(selector)
    if config is None or config.kind == "sim":
        from hil.sim.sim_bench import SimBench
        return SimBench.from_config(config)
    from hil.bench.physical_bench import PhysicalBench
    return PhysicalBench(config)
