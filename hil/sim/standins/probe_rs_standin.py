"""`probe-rs` for the simulated bench: the subcommands and options the framework uses, the real tool's output
format and exit codes, acting on the simulated Rust boards through the supervisor's control socket.

Each Rust board of the simulated bench has a simulated Raspberry Pi Debug Probe (2e8a:000c:<serial>).
Behaviour and the differences from the real tool: docs/sim-rust.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from hil.sim.standins import flash_timing
from hil.sim.standins.rtt import RTT_SYMBOL, RttError, RttReader, elf_symbol_address
from hil.errors import BoardNotFound, DeadlineExpired
from hil.sim.control_client import ControlClient
from hil.sim.sim_errors import SimBoardCommandFailed, SimSupervisorUnavailable

# The stand-in follows probe-rs 0.32's formats, so it says so; HIL_SIM_PROBE_RS_VERSION makes it claim another
# version (to try `hil doctor` and the flashers' version check).
VERSION_ENV = "HIL_SIM_PROBE_RS_VERSION"
MODELLED_VERSION = "0.32.0"


def version_line() -> str:
    return f"probe-rs {os.environ.get(VERSION_ENV) or MODELLED_VERSION} (git commit: hil-sim stand-in)"
PROBE_NAME = "Debug Probe (CMSIS-DAP)"
PROBE_TYPE = "CMSIS-DAP"
PROBE_INTERFACE = 0        # the Debug Probe's CMSIS-DAP v2 interface: `list` shows it as 2e8a:000c-0:SERIAL
# probe-rs 0.32's errors (probe-rs-tools util/common_options.rs OperationError, util/cli.rs MultipleProbesFound)
NO_PROBES = "No connected probes were found."
SUPPORTED_CHIP_PREFIX = "rp2040"
CONTROL_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 60.0
HALT_POLL_S = 0.05
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
SEMIHOSTING_EXIT_REASON = "exit"
# `--binary-format` values of the real tool that the simulated board can load, and what it calls them
BINARY_FORMATS = {"elf": "elf", "bin": "bin", "uf2": "uf2"}
UNSUPPORTED_BINARY_FORMATS = ("hex", "idf")


class ProbeRsError(Exception):
    """Ends the command with `Error: <message>` on stderr and exit code 1, as probe-rs does."""


class ClapParser(argparse.ArgumentParser):
    """Usage errors worded and numbered like clap's (probe-rs's argument parser): exit code 2."""

    def error(self, message: str) -> None:
        sys.stderr.write(f"error: {message}\n\nUsage: {self.prog} [OPTIONS]\n\nFor more information, try '--help'.\n")
        sys.exit(EXIT_USAGE)


def _add_probe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chip")
    parser.add_argument("--probe")
    parser.add_argument("--non-interactive", action="store_true")
    parser.add_argument("--protocol", choices=["swd", "jtag"])
    parser.add_argument("--speed", type=int)
    parser.add_argument("--connect-under-reset", action="store_true")
    parser.add_argument("--chip-description-path")
    parser.add_argument("--allow-erase-all", action="store_true")
    parser.add_argument("--log-file")
    parser.add_argument("--log-to-folder", action="store_true")


def _add_flash_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--preverify", action="store_true")
    parser.add_argument("--chip-erase", action="store_true")
    parser.add_argument("--restore-unwritten", action="store_true")
    parser.add_argument("--disable-progressbars", action="store_true")
    parser.add_argument("--disable-double-buffering", action="store_true")
    parser.add_argument("--binary-format", "--format", dest="binary_format")
    parser.add_argument("--base-address")
    parser.add_argument("--skip", type=int)


def build_parser() -> ClapParser:
    parser = ClapParser(prog="probe-rs", add_help=True)
    parser.add_argument("-V", "--version", action="store_true")
    commands = parser.add_subparsers(dest="command", parser_class=ClapParser)
    commands.add_parser("list")
    download = commands.add_parser("download")
    _add_probe_options(download)
    _add_flash_options(download)
    download.add_argument("path")
    reset = commands.add_parser("reset")
    _add_probe_options(reset)
    reset.add_argument("--core", type=int, default=0)
    for name in ("run", "attach"):
        command = commands.add_parser(name)
        _add_probe_options(command)
        _add_flash_options(command)
        command.add_argument("--no-location", action="store_true")
        command.add_argument("--log-format")
        command.add_argument("--always-print-stacktrace", action="store_true")
        command.add_argument("--catch-reset", action="store_true")
        command.add_argument("--catch-hardfault", action="store_true")
        command.add_argument("--no-catch-hardfault", action="store_true")
        command.add_argument("--rtt-scan-memory", action="store_true")
        command.add_argument("path")
    return parser


# ---- probes -------------------------------------------------------------------------------------------------

def list_probes(client: ControlClient | None) -> list[dict]:
    """The simulated boards that have a debug probe, in the supervisor's order."""
    if client is None:
        return []
    try:
        return [b for b in client.list_boards(CONTROL_TIMEOUT_S) if b.get("runtime") == "rust" and b.get("probe")]
    except SimSupervisorUnavailable:
        return []


def parse_selector(selector: str) -> tuple[int, int, str | None]:
    parts = selector.split(":", 2)
    if len(parts) < 2:
        raise ProbeRsError(f"Failed to parse probe selector '{selector}': expected VID:PID[:SERIAL]")
    try:
        vid, pid = int(parts[0], 16), int(parts[1].split("-")[0], 16)
    except ValueError:
        raise ProbeRsError(f"Failed to parse probe selector '{selector}': VID and PID are hex numbers") from None
    return vid, pid, parts[2] if len(parts) == 3 and parts[2] else None


def listing_line(board: dict) -> str:
    """One probe as probe-rs prints it (DebugProbeInfo's Display): name -- vid:pid-interface:serial (type)."""
    vid, pid, serial = parse_selector(board["probe"])
    return f"{PROBE_NAME} -- {vid:04x}:{pid:04x}-{PROBE_INTERFACE}:{serial or ''} ({PROBE_TYPE})"


def select_probe(probes: list[dict], selector: str | None) -> dict:
    """As probe-rs 0.32 selects: the selector filters the list; none left is "no probes", several is an error
    listing them (with --non-interactive; the stand-in never asks)."""
    if selector is not None:
        vid, pid, serial = parse_selector(selector)
        probes = [board for board in probes if parse_selector(board["probe"])[:2] == (vid, pid)
                  and (serial is None or serial == parse_selector(board["probe"])[2])]
    if not probes:
        raise ProbeRsError(NO_PROBES)
    if len(probes) > 1:
        listed = "".join(f"[{number}]: {listing_line(board)}\n" for number, board in enumerate(probes))
        raise ProbeRsError(f"The following devices were found:\n{listed}\n"
                           "Use '--probe VID:PID' or '--probe VID:PID:Serial' to select one.")
    return probes[0]


def check_chip(chip: str | None) -> None:
    if chip is not None and not chip.lower().startswith(SUPPORTED_CHIP_PREFIX):
        raise ProbeRsError(f"Failed to attach to the target.\n\nCaused by:\n    The connected chip is an RP2040, "
                           f"not '{chip}'.")


# ---- commands -----------------------------------------------------------------------------------------------

def _size_text(size_bytes: float) -> str:
    return f"{size_bytes / flash_timing.KIB:.2f} KiB"


def _progress_line(phase: str, size_bytes: int, rate_bytes_per_s: float, took_s: float) -> str:
    return (f"{phase:>12} ✔ 100% [####################] {_size_text(size_bytes):>12} @ "
            f"{_size_text(rate_bytes_per_s) + '/s':>14} (took {took_s:.0f}s)")


def flash(client: ControlClient, board: dict, args: argparse.Namespace) -> None:
    """Program the file into the board's flash, leaving the core halted (as `probe-rs download` does)."""
    path = os.path.abspath(args.path)
    if not os.path.isfile(path):
        raise ProbeRsError(f"Failed to open the file '{args.path}' for flashing.\n\nCaused by:\n    No such file "
                           "or directory (os error 2)")
    board_format = None
    if args.binary_format:
        wanted = args.binary_format.lower()
        if wanted in UNSUPPORTED_BINARY_FORMATS:
            raise ProbeRsError(f"The simulated bench cannot load {wanted} images: use elf, bin or uf2.")
        if wanted not in BINARY_FORMATS:
            raise ProbeRsError(f"Unknown binary format '{args.binary_format}'.")
        board_format = BINARY_FORMATS[wanted]
    started = time.monotonic()
    try:
        reply = client.board_command(board["id"], "load", LOAD_TIMEOUT_S, path=path, format=board_format)
    except SimBoardCommandFailed as err:
        raise ProbeRsError(f"Failed to flash '{args.path}'.\n\nCaused by:\n    {err.error}") from None
    size_bytes = reply["image"]["size_bytes"]
    erase_bytes = flash_timing.erased_bytes(size_bytes)
    erase_s = erase_bytes / flash_timing.PROBE_RS_ERASE_BYTES_PER_S
    program_s = size_bytes / flash_timing.PROBE_RS_PROGRAM_BYTES_PER_S
    verify_s = size_bytes / flash_timing.PROBE_RS_VERIFY_BYTES_PER_S if args.verify else 0.0
    flash_timing.wait_modelled(flash_timing.PROBE_RS_ATTACH_S + erase_s + program_s + verify_s,
                               time.monotonic() - started)
    if not args.disable_progressbars and sys.stderr.isatty():  # the real bars are drawn on a terminal only
        print(_progress_line("Erasing", erase_bytes, flash_timing.PROBE_RS_ERASE_BYTES_PER_S, erase_s),
              file=sys.stderr)
        print(_progress_line("Programming", size_bytes, flash_timing.PROBE_RS_PROGRAM_BYTES_PER_S, program_s),
              file=sys.stderr)
    print(f"     Finished in {time.monotonic() - started:.2f}s", file=sys.stderr)


def reset(client: ControlClient, board: dict) -> None:
    client.board_command(board["id"], "reset", CONTROL_TIMEOUT_S)


def rtt_reader(client: ControlClient, board: dict, elf_path: str | None) -> RttReader | None:
    """An RTT reader on the board's RAM if the ELF has a control block symbol, as probe-rs finds it."""
    if not elf_path:
        return None
    try:
        with open(elf_path, "rb") as elf:
            address = elf_symbol_address(elf.read(), RTT_SYMBOL)
    except OSError:
        return None
    if address is None:
        return None

    def read_memory(at: int, length: int) -> bytes:
        reply = client.board_command(board["id"], "read_memory", CONTROL_TIMEOUT_S, address=at, length=length)
        return bytes.fromhex(reply["data_hex"])
    return RttReader(read_memory, address)


def print_rtt(rtt: RttReader | None) -> RttReader | None:
    """Print new RTT output (channel 0 plain, others prefixed by name, as probe-rs shows them); returns the
    reader, None once the board cannot be read."""
    if rtt is None:
        return None
    try:
        chunks = rtt.poll()
    except RttError:
        return rtt                 # not initialised yet: the firmware sets it up at boot
    except SimBoardCommandFailed:
        return None                # a board process without read_memory: RTT cannot be followed
    for number, name, text in chunks:
        sys.stdout.write(text if number == 0 else "".join(f"{name or number}: {line}\n"
                                                         for line in text.splitlines()))
    sys.stdout.flush()
    return rtt


def monitor(client: ControlClient, board: dict, elf_path: str | None = None) -> int:
    """Wait for the core to stop (no deadline of its own, like the real tool), printing RTT output meanwhile
    when the ELF has an RTT control block, and report the stop as probe-rs does."""
    rtt = rtt_reader(client, board, elf_path)
    while True:
        try:
            status = client.board_command(board["id"], "status", CONTROL_TIMEOUT_S)
        except (SimSupervisorUnavailable, SimBoardCommandFailed, BoardNotFound) as err:
            raise ProbeRsError(f"Lost the connection to the probe.\n\nCaused by:\n    {err}") from None
        rtt = print_rtt(rtt)
        if status["state"] == "halted":
            rtt = print_rtt(rtt)     # what the firmware wrote just before it stopped (the panic)
            break
        if status["state"] == "bootsel":
            raise ProbeRsError("The target was reset into its bootloader; the firmware is no longer running.")
        time.sleep(HALT_POLL_S)
    halt = status["halt"] or {}
    if halt.get("reason") == SEMIHOSTING_EXIT_REASON:
        return int(halt.get("exit_code", EXIT_ERROR))
    # Nothing from the serial line: like the real tool, `run` sees only what the firmware wrote to RTT.
    pc = int(halt.get("pc") or 0)
    print("Firmware exited unexpectedly: Exception", file=sys.stderr)
    print("Core 0", file=sys.stderr)
    print(f"    Frame 0: {halt.get('reason', 'halt')} @ 0x{pc:08x}", file=sys.stderr)
    print(f"        {halt.get('detail', '')}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        print(version_line())
        return EXIT_OK
    if args.command is None:
        build_parser().error("a subcommand is required")
    try:
        client: ControlClient | None = ControlClient.from_env()
    except SimSupervisorUnavailable:
        client = None
    try:
        if args.command == "list":
            probes = list_probes(client)
            if not probes:
                print("No debug probes were found.")
                return EXIT_OK
            print("The following debug probes were found:")
            for number, board in enumerate(probes):
                print(f"[{number}]: {listing_line(board)}")
            return EXIT_OK
        board = select_probe(list_probes(client), args.probe)
        check_chip(args.chip)
        assert client is not None  # a probe was found, so the bench is reachable
        if args.command == "download":
            flash(client, board, args)
            return EXIT_OK
        if args.command == "reset":
            reset(client, board)
            return EXIT_OK
        if args.command == "run":
            flash(client, board, args)
            reset(client, board)
        return monitor(client, board, getattr(args, "path", None))
    except (ProbeRsError, SimBoardCommandFailed, BoardNotFound, SimSupervisorUnavailable, DeadlineExpired) as err:
        print(f"Error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_OK  # the real tool exits 0 when a `run` is interrupted
