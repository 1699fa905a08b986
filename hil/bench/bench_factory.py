"""Turning the --hil-bench setting into a Bench: `sim` (the default) or a bench file."""
from __future__ import annotations

from pathlib import Path

from hil.bench.bench import Bench
from hil.bench.bench_file import BenchConfig, load_bench_file
from hil.errors import ConfigError

SIM_BENCH = "sim"


def load_bench_config(selector: str) -> BenchConfig | None:
    """The validated bench file named by `selector`, or None for the built-in simulated bench."""
    if selector == SIM_BENCH:
        return None
    path = Path(selector)
    if not path.exists():
        raise ConfigError(selector, None, None,
                          f"bench file not found (use '{SIM_BENCH}' for the simulated bench, or a bench YAML file)")
    return load_bench_file(path)


def open_labgrid_bench(selector: str) -> Bench | None:
    """A `kind: labgrid` bench file opens the labgrid bench kind (its own package, its own schema)."""
    if selector == SIM_BENCH or not Path(selector).is_file():
        return None
    from hil.yamlfile import load_yaml_file
    document = load_yaml_file(selector)
    if not (isinstance(document, dict) and document.get("kind") == "labgrid"):
        return None
    from hil.labgrid.labgrid_bench import LabgridBench, load_labgrid_config
    return LabgridBench(load_labgrid_config(selector, document))


def check_bench_selector(selector: str) -> None:
    """Raise ConfigError (file:line:key) if the bench file named by `selector` is wrong, whatever its kind."""
    if open_labgrid_bench(selector) is None:
        load_bench_config(selector)


def open_bench(selector: str) -> Bench:
    """A bench, not yet started. A bench file is never replaced by the simulator: what it names must be there."""
    labgrid_bench = open_labgrid_bench(selector)
    if labgrid_bench is not None:
        return labgrid_bench
    config = load_bench_config(selector)
    if config is None or config.kind == "sim":
        from hil.sim.sim_bench import SimBench
        return SimBench.from_config(config)
    from hil.bench.physical_bench import PhysicalBench
    return PhysicalBench(config)
