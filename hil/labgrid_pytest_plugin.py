"""pytest side of the labgrid bench: the run's controller owns the places for the whole run.

It reserves and acquires them before any worker starts, hands them to the workers (which inherit the
environment), and releases them when the run ends, also on Ctrl-C and SIGTERM (turned into KeyboardInterrupt
for the run's duration, so pytest unwinds normally). A run killed with SIGKILL leaves its places acquired:
the next run names the holder and waits; `labgrid-client -p PLACE release -k` frees them.
"""
from __future__ import annotations

import os

import pytest

from hil.errors import HilError

BENCH_KEY = pytest.StashKey["object"]()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # before any plugin is configured (pytest_configure), so labgrid's plugin never starts
    _unregister_labgrid_plugin(config)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # a worker: the controller already holds the places (HIL_LABGRID_RUN)
    from hil.labgrid.labgrid_bench import RUN_ENV, LabgridBench
    from hil.plugin import setting
    try:
        selector = setting(config, "bench").value
    except (KeyError, ValueError):
        return
    if os.environ.get(RUN_ENV):
        return  # started inside a run that already holds places: use them
    from hil.bench.bench_factory import resolve_bench
    try:
        kind, bench_config = resolve_bench(selector)
    except HilError:
        return  # hil's own plugin reports a bad bench setting, with file and line
    if kind.name != "labgrid" or config.option.collectonly:
        return
    bench = kind.open_bench(bench_config)
    assert isinstance(bench, LabgridBench)
    try:
        bench.start(bench.config.wait_s)
    except KeyboardInterrupt:
        raise pytest.UsageError("interrupted while waiting for labgrid places") from None
    except HilError as error:
        raise pytest.UsageError(f"labgrid bench {selector}: {error}") from None
    os.environ[RUN_ENV] = bench.handover()
    config.stash[BENCH_KEY] = bench


def _unregister_labgrid_plugin(config: pytest.Config) -> None:
    """labgrid's own pytest plugin (loaded with the labgrid package) assumes every test is a Python function
    and fails on scenario items; it is only needed with its own --lg-env, so without that it is taken out."""
    plugin = config.pluginmanager.get_plugin("labgrid")
    if plugin is not None and not getattr(config.option, "lg_env", None):
        config.pluginmanager.unregister(plugin)


def pytest_unconfigure(config: pytest.Config) -> None:
    bench = config.stash.get(BENCH_KEY, None)
    if bench is None:
        return
    from hil.labgrid.labgrid_bench import RUN_ENV
    del config.stash[BENCH_KEY]
    os.environ.pop(RUN_ENV, None)
    bench.stop()
