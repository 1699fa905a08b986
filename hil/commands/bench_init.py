"""`hil bench init [FILE]`: write a bench file from what is attached, for the user to edit.

Each Pico becomes a board (runtime from its USB product id, found again by its USB serial number, and in BOOTSEL by
its USB port path); a Pico in BOOTSEL is written under its flash id as picotool reads it, never under the serial
number every RP2040 boot ROM reports (E0C9125B0D9B), and left as a comment when that id cannot be read; a Debug Probe
is assigned to a Rust board when exactly one of each is attached; everything the tool could not decide is left
as a comment in the file. The file is checked against the bench schema before it is written.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from hil.bench.bench_file import load_bench_file
from hil.bench.bench_kind import bench_kinds
from hil.bench.board_spec import Runtime
from hil.bench.bootsel_identity import FlashIdReader, PicotoolFlashIdReader
from hil.bench.usb_discovery import Discovery, UsbDiscovery
from hil.bench.usb_ids import KIND_MICROPYTHON, RP2040_BOOTSEL_USB_SERIAL, is_shared_bootsel_serial
from hil.errors import ConfigError, HilError

DEFAULT_PATH = Path("bench.yaml")
EXIT_NOTHING_FOUND = 1


def add_parser(subparsers) -> None:
    bench = subparsers.add_parser("bench", help="bench files")
    actions = bench.add_subparsers(dest="bench_command", metavar="ACTION")
    init = actions.add_parser("init", help="write a bench file from the Picos and probes attached now")
    init.add_argument("file", nargs="?", type=Path, default=DEFAULT_PATH, help=f"where (default {DEFAULT_PATH})")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument("--name", default=None, help="bench name recorded with results (default: the file name)")
    init.set_defaults(func=run)
    bench.set_defaults(func=lambda _args: bench.print_help() or 2)


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (serial numbers can look like numbers)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bench_yaml(discovery: Discovery, name: str, flash_id_of: FlashIdReader | None = None) -> str:
    """The bench file text for what `discovery` saw; raises HilError if there is no Pico it can name.
    `flash_id_of` reads a BOOTSEL device's flash id (its serial number once it runs)."""
    boards: list[str] = []
    comments: list[str] = []
    picos = discovery.pico_ports()
    rust_count = sum(1 for p in picos if p.kind != KIND_MICROPYTHON) + len(discovery.bootsel_devices())
    probes = [p.selector for p in discovery.probes] or [
        f"{p.vid_pid}:{p.serial_number}" for p in discovery.debug_probe_ports() if p.serial_number]
    single_probe = probes[0] if len(probes) == 1 and rust_count == 1 else None
    counters = {Runtime.RUST: 0, Runtime.MICROPYTHON: 0}

    def board(runtime: Runtime, serial_number: str | None, vid_pid: str, note: str, usb_port: str | None) -> None:
        counters[runtime] += 1
        board_id = f"{'mpy' if runtime == Runtime.MICROPYTHON else 'rust'}{counters[runtime]}"
        lines = [f"  - id: {board_id}                # {note}", f"    runtime: {runtime}"]
        if serial_number:
            lines.append(f"    serial_number: {_quote(serial_number)}")
        else:
            lines.append("    # serial_number: (the device reports none: set `port:` instead)")
        lines.append(f"    vid_pid: {_quote(vid_pid)}")
        if usb_port:
            lines.append(f"    usb_port: {_quote(usb_port)}        # the USB port it is plugged into now")
        if runtime == Runtime.MICROPYTHON:
            lines.append("    flash: mpremote")
        elif single_probe:
            lines += [f"    probe: {_quote(single_probe)}", "    flash: probe-rs"]
        else:
            lines += ["    flash: picotool             # or probe-rs with `probe: VID:PID:SERIAL` (see below)"]
        boards.append("\n".join(lines))

    seen_serials = set()
    for port in picos:
        if port.serial_number and port.serial_number in seen_serials:
            comments.append(f"# another port of {port.serial_number}: {port.device} (same device or a duplicate "
                            "serial number: boards must have unique serial numbers)")
            continue
        seen_serials.add(port.serial_number)
        runtime = Runtime.MICROPYTHON if port.kind == KIND_MICROPYTHON else Runtime.RUST
        board(runtime, port.serial_number, port.vid_pid or "", f"now at {port.device}", port.bus_path)
    for device in discovery.bootsel_devices():
        serial_number = device.serial_number
        if is_shared_bootsel_serial(serial_number):
            serial_number = flash_id_of(device) if flash_id_of else None
            if serial_number is None:
                comments.append(f"# a Pico in BOOTSEL at USB {device.bus_path} reports only the boot ROM's serial "
                                f"{RP2040_BOOTSEL_USB_SERIAL}, shared by every RP2040, and its flash id could not "
                                "be read (picotool 2.x): reset it into its firmware, or install picotool, and run "
                                "`hil bench init` again")
                continue
        board(Runtime.RUST, serial_number, "2e8a:000a", f"in BOOTSEL at USB {device.bus_path}; flash it first",
              device.bus_path)
    if not boards:
        by_name = " | ".join(sorted(n for n, k in bench_kinds().items() if k.opens_without_file)) or "FILE"
        unnamed = "".join(f"\n{comment}" for comment in comments if "BOOTSEL" in comment)
        raise HilError("no Pico found on USB that can be named (MicroPython 2e8a:0005, pico-sdk/Rust "
                       f"2e8a:0009/000a, BOOTSEL 2e8a:0003): plug one in, or use a bench that needs no file "
                       f"(--bench {by_name})" + unnamed)
    for probe in probes:
        if probe != single_probe:
            comments.append(f"# debug probe attached: {probe}  (use as `probe:` of the board it is wired to)")
    comments += [f"# {note}" for note in discovery.notes]
    header = ["# Bench file written by `hil bench init` from what was attached. Edit ids and labels as you like;",
              "# boards are found again by serial_number, so keep those. `hil boards --bench FILE` checks it.",
              f"bench: {_quote(name)}", "kind: physical", "boards:"]
    return "\n".join(header + boards + ([""] + comments if comments else [])) + "\n"


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if path.exists() and not args.force:
        raise ConfigError(path, None, None, "already exists (use --force to overwrite)")
    try:
        text = bench_yaml(UsbDiscovery().scan(with_probes=True), args.name or path.stem, PicotoolFlashIdReader())
    except HilError as error:
        print(f"hil bench init: {error}", file=sys.stderr)
        return EXIT_NOTHING_FOUND
    with tempfile.TemporaryDirectory() as scratch:   # validate before touching the user's file
        candidate = Path(scratch) / path.name
        candidate.write_text(text)
        config = load_bench_file(candidate)
    path.write_text(text)
    print(f"wrote {path}: {len(config.specs)} board(s): "
          + ", ".join(f"{s.board_id} ({s.runtime}, {s.flash_method})" for s in config.specs))
    return 0
