"""`hil doctor`: each tool the chosen bench needs: found or missing, its version, and how to install it."""
from __future__ import annotations

import argparse
import importlib.metadata
import shutil
from dataclasses import dataclass
from pathlib import Path

from hil.bench.bench_factory import load_bench_config, open_bench
from hil.commands.bench_option import add_bench_option, bench_setting
from hil.process import tool_version

NODE_DIR = Path(__file__).resolve().parent.parent / "sim" / "node"
NPM_PACKAGES = ("rp2040js", "@micropython/micropython-webassembly-pyscript")
PYTHON_PACKAGES = ("pytest", "pyserial", "mpremote", "PyYAML", "pytest-xdist", "jsonschema", "filelock")
INSTALL = {
    "node": "apt-get install nodejs npm (Node.js 18 or newer)",
    "npm-packages": f"npm ci --prefix {NODE_DIR}",
    "python-packages": "pip install -e .",
    "probe-rs": "see probe.rs: curl installer or `cargo install probe-rs-tools --locked`",
    "picotool": "build from github.com/raspberrypi/picotool or your distribution's package",
    "rust": "rustup target add thumbv6m-none-eabi, or apt-get install rustc-web cargo-web rust-web-src lld-16 llvm",
}


@dataclass
class Check:
    name: str
    found: bool
    version: str
    install: str
    required: bool = True


def _python_packages() -> list[Check]:
    checks = []
    for package in PYTHON_PACKAGES:
        try:
            checks.append(Check(package, True, importlib.metadata.version(package), INSTALL["python-packages"]))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(package, False, "", INSTALL["python-packages"]))
    return checks


def _npm_packages() -> list[Check]:
    import json
    checks = []
    for package in NPM_PACKAGES:
        manifest = NODE_DIR / "node_modules" / package / "package.json"
        version = json.loads(manifest.read_text())["version"] if manifest.exists() else ""
        checks.append(Check(f"npm {package}", bool(version), version, INSTALL["npm-packages"]))
    return checks


def _tool(name: str, version_argv: list[str], env: dict | None, required: bool = True) -> Check:
    path = shutil.which(name, path=(env or {}).get("PATH"))
    version = tool_version(version_argv, env=env) if path else None
    detail = f"{version} ({path})" if version else (path or "")
    return Check(name, bool(path), detail, INSTALL.get(name, ""), required)


def _rust_toolchain() -> Check:
    try:
        from hil.deploy.firmware_build import detect_toolchain
    except ImportError:
        return Check("rust toolchain", False, "firmware build support not installed", INSTALL["rust"])
    try:
        toolchain = detect_toolchain()
    except Exception as error:  # the check reports; it never stops the doctor
        return Check("rust toolchain (thumbv6m)", False, str(error), INSTALL["rust"])
    return Check("rust toolchain (thumbv6m)", True, str(toolchain), INSTALL["rust"])


def collect_checks(selector: str) -> list[Check]:
    config = load_bench_config(selector)
    bench = open_bench(selector)
    env = bench.tool_env()
    checks = _python_packages()
    if config is None or config.kind == "sim":
        checks.append(_tool("node", ["node", "--version"], env))
        checks += _npm_packages()
        checks.append(_tool("probe-rs", ["probe-rs", "--version"], env))
        checks.append(_tool("picotool", ["picotool", "version"], env))
        checks.append(_rust_toolchain())
        return checks
    methods = {spec.flash_method for spec in config.specs}
    if "probe-rs" in methods:
        checks.append(_tool("probe-rs", ["probe-rs", "--version"], env))
    if "picotool" in methods:
        checks.append(_tool("picotool", ["picotool", "version"], env))
    if methods & {"probe-rs", "picotool", "uf2"}:
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
        state = "found  " if check.found else "MISSING"
        line = f"{check.name.ljust(width)}  {state}  {check.version}"
        if not check.found:
            line += f"  -> install: {check.install}"
        print(line.rstrip())
    missing = [c for c in checks if c.required and not c.found]
    print(f"{len(missing)} missing" if missing else "all tools found")
    return 1 if missing else 0
