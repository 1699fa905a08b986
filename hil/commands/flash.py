"""`hil flash BOARD FILE`: load a firmware image onto a Rust board of the bench with its configured flasher,
then wait for its serial port to come back. Flashes unconditionally (the test run skips unchanged builds)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hil.bench.bench_factory import open_bench
from hil.bench.board_spec import Runtime
from hil.commands.bench_option import add_bench_option, bench_setting
from hil.commands.board_lease_cli import board_lease
from hil.commands.progress_printer import ProgressPrinter
from hil.deadline import Deadline
from hil.errors import ProvisionError
from hil.number_option import timeout_seconds
from hil.user_file import check_user_file

START_TIMEOUT_S = 60.0
MAX_IMAGE_BYTES = 64_000_000   # an ELF with debug info for a 2 MB flash stays far below this
DEFAULT_TIMEOUT_S = 120.0
PORT_RETURN_TIMEOUT_S = 15.0   # after a reset the USB serial port re-enumerates


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("flash", help="flash a firmware image (ELF or UF2) onto a Rust board")
    parser.add_argument("board", help="board id from the bench")
    parser.add_argument("file", type=Path, help="firmware image: .elf (probe-rs, picotool) or .uf2")
    add_bench_option(parser)
    parser.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print the flash report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    check_user_file(args.file, MAX_IMAGE_BYTES, "firmware image")   # a FIFO or /dev/zero must not reach a tool
    bench = open_bench(bench_setting(args).value)
    bench.start(min(START_TIMEOUT_S, deadline.remaining_s))
    try:
        spec = bench.spec(args.board)
        if spec.runtime != Runtime.RUST:
            raise ProvisionError(spec.board_id, f"is a {spec.runtime} board: use `hil deploy {spec.board_id} "
                                 "PATH...` to copy scripts onto it")
        # Borrowed like a test borrows it: a board a test run holds is waited for, not flashed meanwhile.
        with board_lease(bench, spec, deadline) as lease, ProgressPrinter(sys.stderr) as printer:
            flasher = lease.boards[spec.board_id].flasher
            report = flasher.flash(args.file, deadline.remaining_s, progress=printer.flash_progress)
            port = bench.locate_port(spec, min(PORT_RETURN_TIMEOUT_S, deadline.remaining_s))
    finally:
        bench.stop()
    if args.json:
        print(json.dumps({**report.as_dict(), "board_id": spec.board_id, "port": port}, indent=2))
    else:
        checks = "verified" if report.verified else "not verified"
        versions = ", ".join(report.tool_versions.values()) or "no tool"
        print(f"{spec.board_id}: flashed {report.image} ({report.image_size_bytes} bytes) with {report.flasher} "
              f"in {report.elapsed_s:.2f} s, {checks}; {versions}; port {port}")
    return 0
