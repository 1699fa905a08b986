"""`hil sim serve`: run the simulated bench in the foreground, one line per board: `<id> <runtime> <port>`.

A person can then `mpremote connect <port>` to a simulated MicroPython Pico or open a Rust board's console with
any terminal program. Ctrl-C (or SIGTERM) stops every board process. pytest runs against it too: SimBench
connects to a supervisor already serving the sim dir (and never stops one started here).
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

from hil.sim.supervisor import add_supervisor_arguments, supervisor_from_args

STARTED_BY = "serve"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("sim", help="the simulated bench (rp2040js and MicroPython WebAssembly)")
    sim_commands = parser.add_subparsers(dest="sim_command", metavar="SIM_COMMAND")
    serve = sim_commands.add_parser("serve", help="run the simulated boards in the foreground until Ctrl-C",
                                    description=__doc__.split("\n")[0])
    add_supervisor_arguments(serve)
    parser.set_defaults(func=run, sim_parser=parser)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "sim_command", None) != "serve":
        args.sim_parser.print_help()
        return 2
    supervisor = supervisor_from_args(args, STARTED_BY, log_stream=sys.stderr)
    supervisor.install_signal_handlers()
    supervisor.start()
    for board_id, runtime, port in supervisor.ports():
        print(f"{board_id} {runtime} {port}", flush=True)
    print(f"simulated bench in {supervisor.sim_dir} (link: {supervisor.link_model.name}); "
          f"HIL_SIM_DIR={supervisor.sim_dir} pytest uses it; Ctrl-C stops it", file=sys.stderr, flush=True)
    standins = Path(__file__).resolve().parent / "standins"
    print(f"to use the probe-rs / picotool stand-ins by hand: "
          f"export PATH={standins}:$PATH HIL_SIM_DIR={supervisor.sim_dir}", file=sys.stderr, flush=True)
    supervisor.serve_forever()
    return 0
