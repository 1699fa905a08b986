"""A pytest plugin for the runs that fault tests start in a subprocess (`-p tests.faults.fault_run_plugin`).

The run's bench becomes a FaultBench described by the JSON file named by HIL_FAULT_RUN (boards, behaviours, tools
missing, tool modes), scenarios that provision get a fake firmware image instead of a cargo build, and the
provisioning deadline is short, so a fault costs seconds. Everything else is the framework's own code path:
scenario items, the board pool with its broken marks, the results recorder, JUnit, serial logs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import hil.run_context
from hil.deploy.firmware_image import FirmwareImage
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_items import ScenarioItem
from tests.faults.fault_bench import FaultBench

RUN_SETTINGS_ENV = "HIL_FAULT_RUN"


def pytest_configure(config) -> None:
    settings = json.loads(Path(os.environ[RUN_SETTINGS_ENV]).read_text(encoding="utf-8"))
    bench = FaultBench(Path(settings["root"]), settings["boards"], settings.get("behaviours"),
                       tuple(settings.get("missing_tools", ())))
    for tool_and_subcommand, mode in settings.get("tool_modes", {}).items():
        bench.set_tool_mode(tool_and_subcommand, mode)
    image = FirmwareImage(elf_path=Path(settings["image"]), uf2_path=None, build_id=settings["build_id"])
    hil.run_context.RunContext.open_bench = lambda self: bench
    Artifacts.firmware = lambda self, name, features=(): image
    ScenarioItem.provision_timeout_s = settings["provision_timeout_s"]
