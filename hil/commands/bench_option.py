"""The --bench option shared by subcommands that act on a bench (same precedence as the pytest plugin)."""
from __future__ import annotations

import argparse

from hil.run_settings import SETTINGS, Resolved, resolve


def add_bench_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bench", default=None,
                        help=f"{SETTINGS['bench'].help} (env {SETTINGS['bench'].env})")


def bench_setting(args: argparse.Namespace) -> Resolved:
    return resolve("bench", args.bench, None)
