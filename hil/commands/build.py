"""`hil build [NAME | FOLDER]`: build a firmware for the Pico (ELF + UF2 with an embedded build id): a binary of
firmware_rust/, or the cargo package in FOLDER (a project's own firmware crate; the store is under its target/).

Says which toolchain it uses, shows cargo's progress on stderr, and prints where the ELF and UF2 are. Nothing runs
when nothing changed since the last build. Errors are raised to the CLI, which prints them on one line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hil.number_option import timeout_seconds
from hil.deploy.firmware_build import DEFAULT_BUILD_TIMEOUT_S, build_firmware

DEFAULT_FIRMWARE = "lesson"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the Rust firmware (ELF and UF2) for the Pico")
    parser.add_argument("name", nargs="?", default=DEFAULT_FIRMWARE,
                        help=f"firmware binary of firmware_rust/ (default {DEFAULT_FIRMWARE}), or a cargo package folder")
    parser.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_BUILD_TIMEOUT_S, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_BUILD_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    folder = Path(args.name)
    if (folder / "Cargo.toml").is_file():
        from hil.scenario.artifacts import cargo_package_name
        args.name = cargo_package_name(folder)
        result = build_firmware(name=args.name, timeout_s=args.timeout, progress=progress,
                                source_dir=folder.resolve())
    else:
        result = build_firmware(name=args.name, timeout_s=args.timeout, progress=progress)
    image = result.image
    if args.json:
        print(json.dumps({"name": args.name, "elf": str(image.elf_path), "uf2": str(image.uf2_path),
                          "build_id": image.build_id, "toolchain": result.toolchain,
                          "rebuilt": result.rebuilt, "elapsed_s": round(result.elapsed_s, 3)}, indent=2))
    else:
        state = "built" if result.rebuilt else "up to date, nothing to do"
        print(f"{args.name}: {state} in {result.elapsed_s:.1f} s (build {image.build_id})")
        print(f"ELF: {image.elf_path}")
        print(f"UF2: {image.uf2_path}")
    return 0
