"""`picotool` for the simulated bench: `load`, `reboot`, `info` and `version` with the real tool's options, output
and exit codes, acting on the simulated Rust boards through the supervisor's control socket.

A simulated board in BOOTSEL is what picotool talks to; `-f` first asks a running firmware to reboot into BOOTSEL
(the reset interface, which every simulated Rust board honours while its firmware runs). Behaviour and the
differences from the real tool: docs/sim-rust.md.
"""
from __future__ import annotations

import os
import time

from hil.errors import BoardNotFound, DeadlineExpired
from hil.sim.control_client import ControlClient
from hil.sim.sim_errors import SimBoardCommandFailed, SimSupervisorUnavailable
from hil.sim.standins import flash_timing

# The stand-in follows picotool 2.1.1's options and messages, so it says so; HIL_SIM_PICOTOOL_VERSION makes it claim
# another version (to try `hil doctor` and the flashers' version check).
VERSION_ENV = "HIL_SIM_PICOTOOL_VERSION"
MODELLED_VERSION = "2.1.1"


def version_line() -> str:
    return f"picotool v{os.environ.get(VERSION_ENV) or MODELLED_VERSION} (Linux, hil-sim stand-in)"
CONTROL_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 60.0
PROGRESS_BAR = "[==============================]  100%"
FLASH_BASE = 0x10000000
# picotool's exit codes (negative error numbers as the shell sees them)
EXIT_OK = 0
ERROR_ARGS = 255  # -1
ERROR_FORMAT = 254  # -2
ERROR_NO_DEVICE = 249  # -7
ERROR_NOT_POSSIBLE = 248  # -8
USB_BUS = 1
FIRST_USB_ADDRESS = 2
NO_BOOTSEL_DEVICE = "No accessible RP-series devices in BOOTSEL mode were found."


def no_device_message(serial: str | None) -> str:
    """picotool 2.x's wording (main.cpp, the "no device" message): which selection found nothing."""
    return f"No accessible RP-series devices in BOOTSEL mode were found with serial number {serial}." if serial \
        else NO_BOOTSEL_DEVICE
FILE_TYPES = {"elf": "elf", "uf2": "uf2", "bin": "bin"}

USAGE = """PICOTOOL:
    Tool for interacting with RP-series device(s) in BOOTSEL mode, or with an RP-series binary

SYNOPSIS:
    picotool info [-b] [-p] [-d] [-l] [-a] [-f] [--ser <ser>] [<filename>]
    picotool load [-v] [-x] [-f] [--ser <ser>] [-t <type>] <filename>
    picotool reboot [-a] [-u] [-f] [--ser <ser>]
    picotool version
"""


class PicotoolError(Exception):
    """Ends the command with a message and one of picotool's exit codes."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class Options:
    """picotool's command line: a command, flags, `--ser`, `-t`, and at most one file name."""

    FLAGS = {"-v": "verify", "--verify": "verify", "-x": "execute", "--execute": "execute",
             "-f": "force", "--force": "force", "-F": "force_no_reboot", "--force-no-reboot": "force_no_reboot",
             "-u": "usb", "--usb": "usb", "-a": "all", "--all": "all", "-b": "basic", "-p": "pins", "-d": "device",
             "-l": "build", "-m": "metadata", "-n": "no_overwrite", "-N": "no_overwrite_unsafe",
             "--quiet": "quiet"}
    VALUED = {"--ser": "serial", "-t": "file_type", "--type": "file_type", "-o": "offset", "--offset": "offset",
              "--bus": "bus", "--address": "address", "-c": "cpu", "--cpu": "cpu"}

    def __init__(self, argv: list[str]):
        if not argv:
            raise PicotoolError(USAGE, ERROR_ARGS)
        self.command = argv[0]
        self.flags: set[str] = set()
        self.values: dict[str, str] = {}
        self.files: list[str] = []
        rest = argv[1:]
        while rest:
            word = rest.pop(0)
            if word in self.FLAGS:
                self.flags.add(self.FLAGS[word])
            elif word in self.VALUED:
                if not rest:
                    raise PicotoolError(f"ERROR: missing value for {word}", ERROR_ARGS)
                self.values[self.VALUED[word]] = rest.pop(0)
            elif word.startswith("-") and len(word) > 1:
                raise PicotoolError(f"ERROR: unrecognized option '{word}'\n\n{USAGE}", ERROR_ARGS)
            else:
                self.files.append(word)

    @property
    def forced(self) -> bool:
        return "force" in self.flags or "force_no_reboot" in self.flags


class Picotool:
    def __init__(self, options: Options, client: ControlClient | None):
        self.options = options
        self.client = client

    # ---- devices --------------------------------------------------------------------------------------------

    def boards(self) -> list[dict]:
        if self.client is None:
            return []
        try:
            boards = [b for b in self.client.list_boards(CONTROL_TIMEOUT_S) if b.get("runtime") == "rust"]
        except SimSupervisorUnavailable:
            return []
        serial = self.options.values.get("serial")
        boards = [b for b in boards if serial is None or b.get("serial_number") == serial]
        for board in boards:
            # the board's own word on its state ("list" may lag one request behind)
            board["state"] = self.board_request(board, "status")["state"]
        return boards

    @staticmethod
    def usb_address(index: int) -> str:
        return f"bus {USB_BUS}, address {FIRST_USB_ADDRESS + index}"

    def bootsel_device(self) -> dict:
        """The one board in BOOTSEL this command acts on; with -f, a running board is rebooted into BOOTSEL."""
        boards = self.boards()
        in_bootsel = [b for b in boards if b["state"] == "bootsel"]
        if not in_bootsel and self.options.forced:
            running = [b for b in boards if b["state"] == "running"]
            if len(running) > 1:
                raise PicotoolError("ERROR: Multiple RP-series devices with a USB serial connection were found; "
                                    "use --ser to select one", ERROR_NOT_POSSIBLE)
            if running:
                board = running[0]
                print(f"Tracking device serial number {board['serial_number']} for reboot")
                self.board_request(board, "bootsel")
                flash_timing.wait_modelled(flash_timing.BOOTSEL_ENUMERATION_S)
                print("The device was asked to reboot into BOOTSEL mode so the command can be executed.\n")
                board["forced_into_bootsel"] = True
                return board
        if not in_bootsel:
            lines = [no_device_message(self.options.values.get("serial"))]
            for index, board in enumerate(boards):
                if board["state"] == "running":
                    lines.append(f"RP2040 device at {self.usb_address(index)} appears to have a USB serial "
                                 "connection, so consider -f (or -F) to force reboot in order to run the command.")
            raise PicotoolError("\n".join(lines), ERROR_NO_DEVICE)
        if len(in_bootsel) > 1:
            raise PicotoolError("ERROR: Multiple RP-series devices in BOOTSEL mode found - use --ser to select one",
                                ERROR_NOT_POSSIBLE)
        return in_bootsel[0]

    def board_request(self, board: dict, cmd: str, timeout_s: float = CONTROL_TIMEOUT_S, **fields) -> dict:
        assert self.client is not None  # a board was listed, so the bench is reachable
        return self.client.board_command(board["id"], cmd, timeout_s, **fields)

    def back_to_application(self, board: dict) -> None:
        """After a command on a device forced into BOOTSEL, picotool reboots it back (unless -F)."""
        if board.get("forced_into_bootsel") and "force_no_reboot" not in self.options.flags:
            self.board_request(board, "run")
            print("\nThe device was asked to reboot back into application mode.")

    # ---- commands -------------------------------------------------------------------------------------------

    def load(self) -> int:
        if len(self.options.files) != 1:
            raise PicotoolError(f"ERROR: load needs exactly one file name\n\n{USAGE}", ERROR_ARGS)
        path = os.path.abspath(self.options.files[0])
        if not os.path.isfile(path):
            raise PicotoolError(f"ERROR: Could not open '{self.options.files[0]}'", ERROR_FORMAT)
        file_type = self.options.values.get("file_type")
        if file_type is not None and file_type.lower() not in FILE_TYPES:
            raise PicotoolError(f"ERROR: Unsupported file type '{file_type}'", ERROR_ARGS)
        board = self.bootsel_device()
        started = time.monotonic()
        try:
            reply = self.board_request(board, "load", LOAD_TIMEOUT_S, path=path,
                                       format=FILE_TYPES.get((file_type or "").lower()))
        except SimBoardCommandFailed as err:
            raise PicotoolError(f"ERROR: {err.error}", ERROR_FORMAT) from None
        size_bytes = reply["image"]["size_bytes"]
        flash_timing.wait_modelled(size_bytes / flash_timing.PICOTOOL_LOAD_BYTES_PER_S,
                                   time.monotonic() - started)
        print(f"Loading into Flash: {PROGRESS_BAR}")
        if "verify" in self.options.flags:
            flash_timing.wait_modelled(size_bytes / flash_timing.PICOTOOL_VERIFY_BYTES_PER_S)
            print(f"Verifying Flash:    {PROGRESS_BAR}")
            print("  OK")
        if "execute" in self.options.flags:
            self.board_request(board, "run")
            print("\nThe device was rebooted to start the application.")
            return EXIT_OK
        self.back_to_application(board)
        return EXIT_OK

    def reboot(self) -> int:
        to_bootsel = "usb" in self.options.flags
        boards = self.boards()
        in_bootsel = [b for b in boards if b["state"] == "bootsel"]
        running = [b for b in boards if b["state"] == "running"]
        if in_bootsel:
            if len(in_bootsel) > 1:
                raise PicotoolError("ERROR: Multiple RP-series devices in BOOTSEL mode found - use --ser to select "
                                    "one", ERROR_NOT_POSSIBLE)
            board = in_bootsel[0]
            self.board_request(board, "bootsel" if to_bootsel else "run")
            print(f"The device was rebooted into {'BOOTSEL' if to_bootsel else 'application'} mode.")
            return EXIT_OK
        if self.options.forced and running:
            if len(running) > 1:
                raise PicotoolError("ERROR: Multiple RP-series devices with a USB serial connection were found; "
                                    "use --ser to select one", ERROR_NOT_POSSIBLE)
            self.board_request(running[0], "bootsel" if to_bootsel else "reset")
            print(f"The device was asked to reboot into {'BOOTSEL' if to_bootsel else 'application'} mode.")
            return EXIT_OK
        self.bootsel_device()  # raises the no-device error with the real tool's hints
        return EXIT_OK

    def info(self) -> int:
        if self.options.files:
            path = self.options.files[0]
            if not os.path.isfile(path):
                raise PicotoolError(f"ERROR: Could not open '{path}'", ERROR_FORMAT)
            print(f"File {path}:\n\nProgram Information\n none")
            return EXIT_OK
        board = self.bootsel_device()
        status = self.board_request(board, "status")
        image = status.get("image")
        print("Program Information")
        if image:
            print(f" binary start:  0x{FLASH_BASE:08x}")
            print(f" binary end:    0x{FLASH_BASE + image['flash_end_bytes']:08x}")
        else:
            print(" none")
        if {"all", "device"} & self.options.flags:
            print("\nDevice Information")
            print(" type:                 RP2040")
            print(" flash size:           2048K")
            print(f" flash id:             0x{board['serial_number'].upper()}")
        self.back_to_application(board)
        return EXIT_OK

    def run(self) -> int:
        command = self.options.command
        if command == "version":
            print(version_line())
            return EXIT_OK
        if command == "help":
            print(USAGE)
            return EXIT_OK
        if command == "load":
            return self.load()
        if command == "reboot":
            return self.reboot()
        if command == "info":
            return self.info()
        raise PicotoolError(f"ERROR: Unknown command: {command}\n\n{USAGE}", ERROR_ARGS)


def main(argv: list[str]) -> int:
    try:
        options = Options(argv)
        try:
            client: ControlClient | None = ControlClient.from_env()
        except SimSupervisorUnavailable:
            client = None
        return Picotool(options, client).run()
    except PicotoolError as err:
        print(str(err))  # picotool reports failures on stdout
        return err.exit_code
    except (SimSupervisorUnavailable, SimBoardCommandFailed, BoardNotFound, DeadlineExpired) as err:
        print(f"ERROR: {err}")
        return ERROR_NOT_POSSIBLE
