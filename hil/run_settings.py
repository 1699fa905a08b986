"""The framework's settings, each available as a CLI option, an environment variable and an ini key.

Precedence: command line > environment > ini file > default. Every resolved value remembers where it came from,
so an error can say "invalid bench 'x' from HIL_BENCH".
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    key: str          # attribute name on the parsed options, and ini key
    option: str       # command-line flag
    env: str          # environment variable
    default: str | None
    help: str


SETTINGS = {
    # Its default is the installed bench kind marked default (see resolve).
    "bench": Setting("hil_bench", "--hil-bench", "HIL_BENCH", None,
                     "bench to run on: a bench YAML file, or a bench kind that needs none (default: the simulated "
                     "bench)"),
    "results": Setting("hil_results", "--hil-results", "HIL_RESULTS", None,
                       "write the results JSON here (incrementally); serial logs go beside it under logs/"),
    "report": Setting("hil_report", "--hil-report", "HIL_REPORT", None,
                      "write the self-contained HTML report here at the end of the run"),
    "board": Setting("hil_board", "--hil-board", "HIL_BOARD", None,
                     "use only these board ids (comma-separated)"),
    # What the rust_board / micropython_board fixtures provision; paths are relative to the pytest rootdir.
    "firmware": Setting("hil_firmware", "--hil-firmware", "HIL_FIRMWARE", None,
                        "firmware for rust_board: an ELF or UF2 file, a cargo package folder, or a binary name of "
                        "the project's firmware_rust/"),
    "deploy": Setting("hil_deploy", "--hil-deploy", "HIL_DEPLOY", None,
                      "files or folders copied to micropython_board (comma-separated)"),
}


def split_list(value: str | None) -> list[str]:
    """A list setting: entries separated by commas or new lines (an ini value may span lines)."""
    return [entry.strip() for line in (value or "").splitlines() for entry in line.split(",") if entry.strip()]


@dataclass(frozen=True)
class Resolved:
    value: str | None
    source: str       # "--hil-bench", "HIL_BENCH", "ini hil_bench", "default"


def resolve(name: str, cli_value: str | None, ini_value: str | None, environ=None) -> Resolved:
    setting = SETTINGS[name]
    environ = os.environ if environ is None else environ
    if cli_value not in (None, ""):
        return Resolved(cli_value, setting.option)
    if environ.get(setting.env):
        return Resolved(environ[setting.env], setting.env)
    if ini_value not in (None, ""):
        return Resolved(ini_value, f"ini {setting.key}")
    if name == "bench":
        from hil.bench.bench_kind import default_bench_selector   # the registry, not this file, names it
        return Resolved(default_bench_selector(), "default")
    return Resolved(setting.default, "default")
