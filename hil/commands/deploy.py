"""`hil deploy BOARD PATH...`: copy scripts onto a MicroPython board of the bench (files whose hash on the board
already matches are skipped), soft reset it and check that its REPL answers."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hil.bench.bench_factory import open_bench
from hil.bench.board_spec import Runtime
from hil.board.board import ProvisionArtifacts
from hil.commands.bench_option import add_bench_option, bench_setting
from hil.commands.board_lease_cli import board_lease
from hil.commands.progress_printer import ProgressPrinter
from hil.deadline import Deadline
from hil.deploy.micropython_deployer import plan_files
from hil.errors import ProvisionError
from hil.number_option import timeout_seconds

START_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_S = 120.0
LOCATE_TIMEOUT_S = 10.0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("deploy", help="copy scripts onto a MicroPython board (unchanged files skipped)")
    parser.add_argument("board", help="board id from the bench")
    parser.add_argument("paths", nargs="+", type=Path,
                        help="files, or folders whose contents are copied (folder/x.py -> DEST/x.py)")
    add_bench_option(parser)
    parser.add_argument("--dest", default="/", help="folder on the board (default /)")
    parser.add_argument("--verify", action="store_true",
                        help="hash every file on the board afresh instead of trusting its size and mtime record "
                             "(slower: finds files changed behind the deployer's back)")
    parser.add_argument("--no-soft-reset", action="store_true", help="leave the interpreter running as it is")
    parser.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print the deploy report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    files = plan_files(args.paths, args.dest)
    bench = open_bench(bench_setting(args).value)
    bench.start(min(START_TIMEOUT_S, deadline.remaining_s))
    try:
        spec = bench.spec(args.board)
        if spec.runtime != Runtime.MICROPYTHON:
            raise ProvisionError(spec.board_id, f"is a {spec.runtime} board: use `hil flash {spec.board_id} FILE`")
        artifacts = ProvisionArtifacts(files=tuple(files), restart_after_copy=not args.no_soft_reset,
                                       verify=True if args.verify else None)   # else the bench file's deploy_verify
        # Borrowed like a test borrows it: a board a test run holds is waited for, not written to meanwhile.
        with board_lease(bench, spec, deadline) as lease, ProgressPrinter(sys.stderr) as printer:
            report = lease.provision(spec.board_id, artifacts, deadline.remaining_s, progress=printer.text)
            port = bench.locate_port(spec, min(LOCATE_TIMEOUT_S, max(deadline.remaining_s, 0.1)))
    finally:
        bench.stop()
    if args.json:
        print(json.dumps({**report.as_dict(), "port": port}, indent=2))
    else:
        print(f"{spec.board_id}: {len(report.files_written)} of {report.files_total} files written "
              f"({report.bytes_written} bytes), {len(report.files_unchanged)} unchanged, in {report.elapsed_s:.2f} s; "
              f"{report.micropython or 'MicroPython'}; port {port}")
    return 0
