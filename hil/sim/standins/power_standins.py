"""`uhubctl` and `gpioset` for the simulated bench: power and RUN-pin control of the simulated boards through the
supervisor's control socket, with the real tools' command lines.

The simulated bench is one USB hub with per-port power switching at location `1-1`; its port N (from 1) powers
the N-th board of the supervisor's list. Switching a port off and on (`-a cycle`) restarts that board's process from
its saved flash, as a power cycle restarts a Pico. The RP2040 RUN pins are lines of `gpiochip0`: line N (from 0)
is the N-th board's RUN pin, and pulling it low (`gpioset -c gpiochip0 -t 100ms,0 N=0`) resets the chip.
No third-party modules, like the other stand-ins. Behaviour and differences from the real tools: docs/sim-rust.md.
"""
from __future__ import annotations

import argparse
import re
import sys
import time

from hil.errors import BoardNotFound, DeadlineExpired
from hil.sim.control_client import ControlClient
from hil.sim.sim_errors import SimBoardCommandFailed, SimSupervisorUnavailable

HUB_LOCATION = "1-1"
HUB_DESCRIPTION = "1d6b:0002 hil-sim simulated hub, USB 2.00, {ports} ports, ppps"
GPIO_CHIP = "gpiochip0"
CONTROL_TIMEOUT_S = 10.0
EXIT_OK, EXIT_ERROR = 0, 1
CYCLE_ACTIONS = ("cycle", "2")
_PERIOD = re.compile(r"^(\d+)(us|ms|s)?$")


def _boards() -> list[dict]:
    try:
        return ControlClient.from_env().list_boards(CONTROL_TIMEOUT_S)
    except SimSupervisorUnavailable:
        return []


# ---- uhubctl ------------------------------------------------------------------------------------------------

def _port_line(number: int, board: dict | None, powered: bool) -> str:
    if not powered:
        return f"  Port {number}: 0000 off"
    if board is None:
        return f"  Port {number}: 0100 power"
    return f"  Port {number}: 0103 power enable connect [{board.get('vid_pid', '2e8a:000a')} hil-sim {board['id']}]"


def _hub_status(title: str, boards: list[dict], ports: list[int], off: set[int] = frozenset()) -> str:
    lines = [f"{title} for hub {HUB_LOCATION} [{HUB_DESCRIPTION.format(ports=len(boards))}]"]
    lines += [_port_line(p, boards[p - 1] if p <= len(boards) else None, p not in off) for p in ports]
    return "\n".join(lines)


def uhubctl_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="uhubctl", add_help=True)
    parser.add_argument("-l", "--location")
    parser.add_argument("-p", "--ports")
    parser.add_argument("-a", "--action")
    parser.add_argument("-d", "--delay", type=float, default=2.0)
    parser.add_argument("-r", "--repeat", type=int, default=1)
    parser.add_argument("-w", "--wait", type=int, default=20)
    args = parser.parse_args(argv)
    boards = _boards()
    if not boards or (args.location and args.location != HUB_LOCATION):
        print(f"No compatible devices detected{f' at location {args.location}' if args.location else ''}!\n"
              "Run with -h to get usage info.", file=sys.stderr)
        return EXIT_ERROR
    try:
        ports = [int(p) for p in args.ports.split(",")] if args.ports else list(range(1, len(boards) + 1))
    except ValueError:
        print(f"Invalid port list {args.ports!r}", file=sys.stderr)
        return EXIT_ERROR
    if any(not 1 <= p <= len(boards) for p in ports):
        print(f"Hub {HUB_LOCATION} has ports 1-{len(boards)}", file=sys.stderr)
        return EXIT_ERROR
    print(_hub_status("Current status", boards, ports))
    if args.action is None:
        return EXIT_OK
    if args.action not in CYCLE_ACTIONS:
        print(f"the simulated hub switches power only with -a cycle (got -a {args.action})", file=sys.stderr)
        return EXIT_ERROR
    print("Sent power off request")
    print(_hub_status("New status", boards, ports, off=set(ports)))
    time.sleep(min(args.delay, 5.0))   # the off time, as the real tool waits it (bounded: a stand-in)
    client = ControlClient.from_env()
    for port in ports:
        try:
            client.board_command(boards[port - 1]["id"], "power_cycle", CONTROL_TIMEOUT_S)
        except (SimBoardCommandFailed, BoardNotFound, SimSupervisorUnavailable, DeadlineExpired) as error:
            print(f"Failed to switch port {port}: {error}", file=sys.stderr)
            return EXIT_ERROR
    print("Sent power on request")
    print(_hub_status("New status", boards, ports))
    return EXIT_OK


# ---- gpioset (libgpiod 2.x) ---------------------------------------------------------------------------------

def _period_s(text: str) -> float:
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(text)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, None: 1e-6}[match[2]]   # a bare number is microseconds
    return int(match[1]) * scale


def gpioset_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gpioset", add_help=True)
    parser.add_argument("-c", "--chip", default=GPIO_CHIP)
    parser.add_argument("-t", "--toggle")
    parser.add_argument("line_values", nargs="+", metavar="line=value")
    args = parser.parse_args(argv)
    if args.chip not in (GPIO_CHIP, "0", f"/dev/{GPIO_CHIP}"):
        print(f"gpioset: cannot find GPIO chip character device '{args.chip}'", file=sys.stderr)
        return EXIT_ERROR
    boards = _boards()
    requests = []
    for pair in args.line_values:
        line, sep, value = pair.partition("=")
        if not sep or value not in ("0", "1", "active", "inactive", "on", "off", "true", "false"):
            print(f"gpioset: invalid line value: '{pair}'", file=sys.stderr)
            return EXIT_ERROR
        if not line.isdigit() or int(line) >= len(boards):
            print(f"gpioset: cannot find line '{line}'", file=sys.stderr)
            return EXIT_ERROR
        requests.append((boards[int(line)], value in ("0", "inactive", "off", "false")))
    try:
        periods = [_period_s(p) for p in args.toggle.split(",")] if args.toggle else []
    except ValueError as error:
        print(f"gpioset: invalid period: '{error}'", file=sys.stderr)
        return EXIT_ERROR
    if not periods or periods[-1] != 0:
        # without a final 0 period the real tool holds the line until killed: the stand-in only pulses
        print("gpioset: the simulated RUN lines take a pulse only (-t PERIOD,0)", file=sys.stderr)
        return EXIT_ERROR
    time.sleep(min(sum(periods), 5.0))
    client = ControlClient.from_env()
    for board, low in requests:
        if low:   # RUN held low, then released: the chip resets
            try:
                client.board_command(board["id"], "reset", CONTROL_TIMEOUT_S)
            except (SimBoardCommandFailed, BoardNotFound, SimSupervisorUnavailable, DeadlineExpired) as error:
                print(f"gpioset: {error}", file=sys.stderr)
                return EXIT_ERROR
    return EXIT_OK
