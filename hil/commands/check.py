"""`hil check FILE...`: validate scenario and bench files without running anything (exit 2 on the first bad one)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hil.bench.bench_file import load_bench_file
from hil.errors import ConfigError
from hil.scenario.scenario_file import load_scenario
from hil.yamlfile import load_yaml_file

EXIT_BAD_INPUT = 2


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate scenario and bench files")
    parser.add_argument("files", nargs="+", type=Path, help="scenario or bench YAML files")
    parser.add_argument("--project", type=Path, default=Path.cwd(),
                        help="project root that scenario deploy paths are relative to (default: .)")
    parser.set_defaults(func=run)


def check_file(path: Path, project_root: Path) -> str:
    """'scenario NAME' or 'bench NAME' if valid; ConfigError otherwise. A file with `boards` as a list, or with a
    `bench` or `kind` key (and no `scenario`), is a bench."""
    document = load_yaml_file(path)
    if isinstance(document, dict) and "scenario" not in document and (
            isinstance(document.get("boards"), list) or "bench" in document or "kind" in document):
        return f"bench {load_bench_file(path).name}"
    return f"scenario {load_scenario(path, project_root).name}"


def run(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            print(f"{path}: ok ({check_file(path, args.project)})")
        except ConfigError as error:
            print(f"hil check: {error}", file=sys.stderr)
            status = EXIT_BAD_INPUT
    return status
