"""The `hil` command. Each subcommand lives in hil/commands/<name>.py with add_parser() and run().

Errors from the library are turned into one line here: a bad file or option exits 2, another failure exits 1.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from hil.bench.bench_kind import bench_kinds
from hil.errors import ConfigError, HilError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

SUBCOMMAND_MODULES = ("doctor", "boards", "check", "bench_init", "build", "flash", "deploy", "report", "init")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hil", description="Pico hardware-in-the-loop: benches, boards, results.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"hil.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"hil.commands.{name}":
                raise
            continue  # a subcommand not part of this installation
        module.add_parser(subparsers)
    for kind in bench_kinds().values():   # a bench kind's own subcommands (e.g. serving its boards)
        for module_name in kind.cli_commands:
            importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(f"hil {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except HilError as error:
        print(f"hil {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"hil {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
