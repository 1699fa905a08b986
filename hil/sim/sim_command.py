"""`hil sim serve`: run the simulated bench in the foreground, one line per board: `<id> <runtime> <port>`.
`hil sim firmware [FILE...]`: check firmware images and copy them into the per-user cache; without files, show
which images the simulated bench would use (exit 1 with where to get them when one is missing).
`hil sim install`: install the simulator's npm packages into the per-user cache now (otherwise: on first use).

A person can then `mpremote connect <port>` to a simulated MicroPython Pico or open a Rust board's console with
any terminal program. Ctrl-C (or SIGTERM) stops every board process. pytest runs against it too: SimBench
connects to a supervisor already serving the sim dir (and never stops one started here).
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

from hil.bench.bench_file import load_bench_file
from hil.sim.firmware_images import bench_firmware_keys, install_into_cache, locate_images
from hil.sim.node_packages import ensure_installed, package_versions
from hil.sim.supervisor import add_supervisor_arguments, supervisor_from_args

STARTED_BY = "serve"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("sim", help="the simulated bench (emulated RP2040s in rp2040js)")
    sim_commands = parser.add_subparsers(dest="sim_command", metavar="SIM_COMMAND")
    serve = sim_commands.add_parser("serve", help="run the simulated boards in the foreground until Ctrl-C",
                                    description=__doc__.split("\n")[0])
    add_supervisor_arguments(serve)
    firmware = sim_commands.add_parser(
        "firmware", help="check firmware images (bootrom, MicroPython UF2) and copy them into the per-user cache",
        description="Check each FILE (an RP2040 MicroPython UF2 or the 16 KiB RP2040 bootrom) and copy it into "
                    "the per-user cache, replacing the cached image of its kind. Without FILE: show the images "
                    "the simulated bench finds.")
    firmware.add_argument("files", nargs="*", metavar="FILE")
    firmware.add_argument("--bench", metavar="FILE", help="a sim bench file whose firmware: keys to honour")
    sim_commands.add_parser("install", help="install the simulator's npm packages (once per user; needs node, npm)")
    parser.set_defaults(func=run, sim_parser=parser)


def run_firmware(args: argparse.Namespace) -> int:
    if args.files:
        for image in install_into_cache(args.files):
            print(f"{image.kind}: {image.path} ({image.version}, sha256 {image.sha256})")
        return 0
    keys = {}
    if args.bench:
        config = load_bench_file(args.bench)
        keys = bench_firmware_keys(config)
    images = locate_images(True, keys)
    for image in (images.bootrom, images.micropython_uf2):
        print(f"{image.kind}: {image.path} ({image.version}, sha256 {image.sha256}; from {image.found_in})")
    return 0


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "sim_command", None)
    if command == "firmware":
        return run_firmware(args)
    if command == "install":
        folder = ensure_installed(progress=lambda line: print(line, file=sys.stderr, flush=True))
        versions = ", ".join(f"{name} {version}" for name, version in package_versions(folder).items())
        print(f"simulator packages: {versions} in {folder}")
        return 0
    if command != "serve":
        args.sim_parser.print_help()
        return 2
    ensure_installed(progress=lambda line: print(line, file=sys.stderr, flush=True))
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
