"""`hil doctor`: each tool the chosen bench needs: found or missing, its version, and how to install it."""
from __future__ import annotations

import argparse
import importlib.metadata
import shutil
from dataclasses import dataclass

from hil.bench.bench import RUST_BUILD_INSTALL_HINT, ToolRequirement
from hil.bench.bench_factory import open_bench
from hil.commands.bench_option import add_bench_option, bench_setting
from hil.deploy.tool_versions import version_problem
from hil.process import tool_version
from hil.bench.board_spec import Runtime

PYTHON_PACKAGES = ("pytest", "pyserial", "mpremote", "PyYAML", "pytest-xdist", "jsonschema", "filelock")
PIP_INSTALL = "pip install -e . (from the project folder)"


@dataclass
class Check:
    name: str
    found: bool
    version: str
    install: str
    problem: str = ""     # found, but not usable (e.g. too old): counted with the missing ones


def _python_packages() -> list[Check]:
    checks = []
    for package in PYTHON_PACKAGES:
        try:
            checks.append(Check(package, True, importlib.metadata.version(package), PIP_INSTALL))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(package, False, "", PIP_INSTALL))
    return checks


def _check_tool(requirement: ToolRequirement, env: dict) -> Check:
    if requirement.probe is not None:
        version = requirement.probe()
        return Check(requirement.name, version is not None, version or "", requirement.install_hint)
    path = shutil.which(requirement.version_argv[0], path=env.get("PATH"))
    version = tool_version(requirement.version_argv, env=env) if path else None
    detail = f"{version} ({path})" if version else (path or "")
    problem = version_problem(requirement.name, version)
    return Check(requirement.name, bool(path), detail, requirement.install_hint, problem)


def _rust_toolchain() -> Check:
    from hil.deploy.firmware_build import detect_toolchain
    name = "rust toolchain (thumbv6m)"
    try:
        return Check(name, True, str(detect_toolchain()), RUST_BUILD_INSTALL_HINT)
    except Exception as error:  # the check reports what is wrong; it never stops the doctor
        return Check(name, False, str(error), RUST_BUILD_INSTALL_HINT)


def collect_checks(selector: str) -> list[Check]:
    bench = open_bench(selector)
    env = bench.tool_env()
    checks = _python_packages() + [_check_tool(r, env) for r in bench.tool_requirements()]
    if bench.specs_for(Runtime.RUST):
        checks.append(_rust_toolchain())
    return checks


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check the tools the bench needs")
    add_bench_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    selector = bench_setting(args)
    print(f"bench: {selector.value} (from {selector.source})")
    checks = collect_checks(selector.value)
    width = max(len(c.name) for c in checks)
    for check in checks:
        state = "MISSING" if not check.found else ("TOO OLD" if check.problem else "found  ")
        line = f"{check.name.ljust(width)}  {state}  {check.version}"
        if check.problem:
            line += f"  -> {check.problem}; install: {check.install}"
        elif not check.found:
            line += f"  -> install: {check.install}"
        print(line.rstrip())
    missing = [c for c in checks if not c.found]
    too_old = [c for c in checks if c.found and c.problem]
    if missing or too_old:
        print(", ".join(part for part in (f"{len(missing)} missing" if missing else "",
                                          f"{len(too_old)} too old" if too_old else "") if part))
    else:
        print("all tools found")
    return 1 if missing or too_old else 0
