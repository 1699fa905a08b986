"""Round trip: SerialTransport's write + expect of a short line vs a raw pyserial write + read of the same bytes,
many repetitions in alternating blocks, medians compared.

On the bench's Rust board (`ping` -> `OK pong`; on the simulated bench through the USB full-speed link model)
the goal applies. The same on a local echo process over a bare pseudo-terminal is recorded too: there the round
trip is almost nothing but host overhead, so it shows what the transport itself adds, in microseconds.
"""
from __future__ import annotations

import re
import statistics
import time

from benchmarks.bench_session import BenchSession
from benchmarks.figure import NO_CLOCK, Figure
from benchmarks.goal import at_most
from benchmarks.outcome import Outcome
from benchmarks.pty_peer import QUIT
from benchmarks.pty_peer_process import PtyPeerProcess
from hil.board.board import ProvisionArtifacts

NAME = "round_trip"
GOAL_RATIO = 1.2
BLOCKS = 4
BOARD_REPS_PER_BLOCK = 25
ECHO_REPS_PER_BLOCK = 250
EXPECT_TIMEOUT_S = 5.0
OPEN_TIMEOUT_S = 10.0
PEER_LIFETIME_S = 300.0
PING = "ping\n"
PONG = b"OK pong\n"
ECHO_LINE = "echo\n"
US_PER_S = 1e6


def run(session: BenchSession | None) -> list[Outcome]:
    outcomes = []
    if session is not None and session.has_runtime("rust"):
        outcomes.append(_board(session))
    outcomes.append(_echo())
    return outcomes


def _ours(transport, send: str, answer: bytes, reps: int) -> list[float]:
    pattern = re.compile("^" + re.escape(answer.decode()), re.MULTILINE)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        transport.write(send)
        transport.expect(pattern, EXPECT_TIMEOUT_S)
        times.append(time.perf_counter() - started)
    return times


def _plain(port: str, send: str, answer: bytes, reps: int) -> list[float]:
    import serial
    request = send.encode()
    times = []
    with serial.Serial(port, timeout=EXPECT_TIMEOUT_S) as plain:
        for _ in range(reps):
            started = time.perf_counter()
            plain.write(request)
            got = plain.read(len(answer))
            times.append(time.perf_counter() - started)
            if got != answer:
                raise RuntimeError(f"raw pyserial round trip: expected {answer!r}, got {got!r}")
    return times


def _compare(title: str, detail: str, ours: list[float], plain: list[float], goal: bool) -> Outcome:
    ours_us, plain_us = statistics.median(ours) * US_PER_S, statistics.median(plain) * US_PER_S
    figures = [
        Figure(detail, len(ours) + len(plain), "round trips", NO_CLOCK),
        Figure(f"ours, write + expect (median of {len(ours)})", round(ours_us), "us"),
        Figure(f"raw pyserial write + read (median of {len(plain)})", round(plain_us), "us"),
        Figure("ours - raw", round(ours_us - plain_us), "us"),
    ]
    return Outcome(NAME, title, figures, at_most("ours / raw", GOAL_RATIO) if goal else None, ours_us / plain_us,
                   ratio_name="ours / raw")


def _board(session: BenchSession) -> Outcome:
    board = session.board("rust")
    board.provision(ProvisionArtifacts(firmware=session.artifacts.firmware("lesson")), 300.0)
    ours, plain = [], []
    for _ in range(BLOCKS):
        board.open()
        board.transport.drain(quiet_s=0.05, timeout_s=1.0)
        ours += _ours(board.transport, PING, PONG, BOARD_REPS_PER_BLOCK)
        board.close()
        plain += _plain(session.port_of("rust"), PING, PONG, BOARD_REPS_PER_BLOCK)
    return _compare(f"Rust board ping ({board.board_id})", f"`ping` -> `OK pong` on {board.board_id}, alternating "
                    f"blocks of {BOARD_REPS_PER_BLOCK}", ours, plain, goal=True)


def _echo() -> Outcome:
    from hil.transport.serial_transport import SerialTransport
    peer = PtyPeerProcess(["echo"], PEER_LIFETIME_S)
    port = peer.start()
    ours, plain = [], []
    try:
        for _ in range(BLOCKS):
            with SerialTransport(port) as transport:
                transport.open(OPEN_TIMEOUT_S)
                ours += _ours(transport, ECHO_LINE, ECHO_LINE.encode(), ECHO_REPS_PER_BLOCK)
            plain += _plain(port, ECHO_LINE, ECHO_LINE.encode(), ECHO_REPS_PER_BLOCK)
    finally:
        peer.stop(QUIT + b"\n")
    return _compare("local echo over a bare PTY", f"a line echoed by a local process, alternating blocks of "
                    f"{ECHO_REPS_PER_BLOCK}", ours, plain, goal=False)
