"""`hil boards`: one line per board of the bench: id, runtime, port, VID:PID, serial number, state."""
from __future__ import annotations

import argparse

from hil.bench.bench_factory import open_bench
from hil.commands.bench_option import add_bench_option, bench_setting

START_TIMEOUT_S = 60.0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("boards", help="list the bench's boards and whether they are attached")
    add_bench_option(parser)
    parser.add_argument("--header", action="store_true", help="print a header line first")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bench = open_bench(bench_setting(args).value)
    if bench.lists_without_start:
        rows = bench.attached()
    else:
        bench.start(START_TIMEOUT_S)
        try:
            rows = bench.attached()
        finally:
            bench.stop()
    header = ("ID", "RUNTIME", "PORT", "VID:PID", "SERIAL", "STATE")
    table = [header] * args.header + [(r.board_id, r.runtime, r.port or "-", r.vid_pid or "-", r.serial_number or "-",
                         r.state + (f" ({r.detail})" if r.detail else "")) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)] if table else []
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    # A board in BOOTSEL or halted is fixed by provisioning; these are not, and a script should stop on them.
    not_usable = [r for r in rows if r.state in ("missing", "ambiguous", "wrong-runtime")]
    return 1 if not_usable else 0
