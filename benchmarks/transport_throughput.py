"""Transport: bytes per second SerialTransport.read_exactly takes from a streaming peer vs a plain pyserial read
loop on the same stream, runs alternated (ours then plain, plain then ours, ...), medians compared.

Two streams:
- a pseudo-terminal fed by a local writer process (benchmarks.pty_peer), no link model: the transport's own
  ceiling, which must reach 1.2 MB/s (USB full speed's 1.216 MB/s, so it never limits a real Pico);
- the Rust lesson firmware's `tx N` on the bench's board (on the simulated bench: rp2040js behind the USB
  full-speed link model), with the firmware's own figure on its clock.
Each timing starts once the request is written (PTY) or the `DATA` line is read (board) and ends with the last
payload byte, on the host clock.
"""
from __future__ import annotations

import re
import statistics
import time

from benchmarks.bench_session import BenchSession
from benchmarks.figure import NO_CLOCK, Figure
from benchmarks.goal import at_least
from benchmarks.outcome import Outcome
from benchmarks.pty_peer import QUIT, payload
from benchmarks.pty_peer_process import PtyPeerProcess
from hil.board.board import ProvisionArtifacts

NAME = "transport_throughput"
GOAL_RATIO = 0.9
GOAL_PTY_MB_S = 1.2
BYTES_PER_MB = 1_000_000
PTY_STREAM_BYTES = 8 * 1024 * 1024
PTY_RUNS_PER_REPEAT = 4          # a PTY run takes ~0.1 s: many more of them, so one hiccup cannot decide
BOARD_STREAM_BYTES = 50_000
READ_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 10.0
PEER_LIFETIME_S = 300.0
GO = b"g"
DATA_LINE = re.compile(rb"DATA n=(\d+)\r?\n")
TX_DONE = re.compile(r"OK tx n=(?P<n>\d+) crc=0x[0-9a-f]+ us=(?P<us>\d+)")


def run(session: BenchSession | None, repeats: int) -> list[Outcome]:
    outcomes = _pty(repeats)
    if session is not None and session.has_runtime("rust"):
        outcomes.append(_board(session, repeats))
    return outcomes


# -- a pseudo-terminal fed by a local process ---------------------------------------------------------------

def _ours_pty(port: str, size_bytes: int) -> tuple[float, bytes]:
    from hil.transport.serial_transport import SerialTransport
    with SerialTransport(port) as transport:
        transport.open(COMMAND_TIMEOUT_S)
        transport.write(GO)
        started = time.perf_counter()
        data = transport.read_exactly(size_bytes, READ_TIMEOUT_S)
        return time.perf_counter() - started, data


def _plain_pty(port: str, size_bytes: int) -> tuple[float, bytes]:
    import serial
    with serial.Serial(port, timeout=READ_TIMEOUT_S) as plain:
        plain.write(GO)
        started = time.perf_counter()
        data = plain_read(plain, size_bytes)
        return time.perf_counter() - started, data


def paired_ratio(ours_s: list[float], plain_s: list[float]) -> float:
    """Median over adjacent runs of plain time / our time (= our rate / plain rate): each pair ran under about
    the same machine load. Printed as a cross-check of the result, the ratio of the medians."""
    return statistics.median(plain / ours for ours, plain in zip(ours_s, plain_s))


def plain_read(plain, size_bytes: int) -> bytes:
    """The plain pyserial loop: read what is still missing until all of it is there (or the port's timeout)."""
    data = bytearray()
    while len(data) < size_bytes:
        chunk = plain.read(size_bytes - len(data))
        if not chunk:
            raise TimeoutError(f"plain pyserial read: {len(data)} of {size_bytes} bytes")
        data += chunk
    return bytes(data)


def _pty(repeats: int) -> list[Outcome]:
    peer = PtyPeerProcess(["stream", "--size-bytes", str(PTY_STREAM_BYTES)], PEER_LIFETIME_S)
    port = peer.start()
    expected = payload(PTY_STREAM_BYTES)
    ours_s, plain_s, problems = [], [], []
    try:
        for run in range(repeats * PTY_RUNS_PER_REPEAT):
            sides = ((_ours_pty, ours_s), (_plain_pty, plain_s))
            for reader, times in (sides if run % 2 == 0 else sides[::-1]):   # neither side always goes first
                elapsed_s, data = reader(port, PTY_STREAM_BYTES)
                times.append(elapsed_s)
                if data != expected:
                    problems.append(f"{reader.__name__}: received bytes differ from the stream")
    finally:
        peer.stop(QUIT)
    ours_rate = PTY_STREAM_BYTES / statistics.median(ours_s) / BYTES_PER_MB
    plain_rate = PTY_STREAM_BYTES / statistics.median(plain_s) / BYTES_PER_MB
    paired = paired_ratio(ours_s, plain_s)
    figures = [
        Figure("stream per run (PTY, local writer process, no link model)", PTY_STREAM_BYTES, "bytes", NO_CLOCK),
        Figure(f"ours, SerialTransport.read_exactly (median of {len(ours_s)})", round(ours_rate, 2), "MB/s"),
        Figure(f"plain pyserial read loop (median of {len(plain_s)})", round(plain_rate, 2), "MB/s"),
        Figure("(cross-check) median of the per-pair ratios, ours / plain", round(paired, 3), "x", NO_CLOCK),
    ]
    return [Outcome(NAME, "PTY, ours vs plain pyserial (ratio of the medians)", figures,
                    at_least("ours / plain pyserial", GOAL_RATIO), ours_rate / plain_rate, problems=problems),
            Outcome(NAME, "PTY, ours alone", [], at_least("ours", GOAL_PTY_MB_S, " MB/s"), ours_rate)]


# -- the board's `tx N` --------------------------------------------------------------------------------------

def _ours_board(board, size_bytes: int) -> tuple[float, int, int]:
    transport = board.transport
    board.open()
    transport.write(f"tx {size_bytes}\n")
    transport.expect(DATA_LINE.pattern.decode(), COMMAND_TIMEOUT_S)
    started = time.perf_counter()
    data = transport.read_exactly(size_bytes, READ_TIMEOUT_S)
    elapsed_s = time.perf_counter() - started
    done = transport.expect(TX_DONE, COMMAND_TIMEOUT_S)
    board.close()
    return elapsed_s, int(done["us"]), _payload_errors(data, size_bytes)


def _plain_board(port: str, size_bytes: int) -> tuple[float, int, int]:
    import serial
    with serial.Serial(port, timeout=COMMAND_TIMEOUT_S) as plain:
        plain.write(f"tx {size_bytes}\n".encode())
        header = plain.read_until(b"\n")
        if not DATA_LINE.search(header):
            raise RuntimeError(f"plain pyserial: expected a DATA line, got {header!r}")
        started = time.perf_counter()
        data = plain_read(plain, size_bytes)
        elapsed_s = time.perf_counter() - started
        plain.read_until(b"\n")             # the newline that ends the payload
        done = TX_DONE.search(plain.read_until(b"\n").decode("latin-1"))
    if not done:
        raise RuntimeError("plain pyserial: no OK tx line after the payload")
    return elapsed_s, int(done["us"]), _payload_errors(data, size_bytes)


def _payload_errors(data: bytes, size_bytes: int) -> int:
    return 0 if data == payload(size_bytes) else 1


def _board(session: BenchSession, repeats: int) -> Outcome:
    board = session.board("rust")
    board.provision(ProvisionArtifacts(firmware=session.artifacts.firmware("lesson")), 300.0)
    board.transport.drain(quiet_s=0.05, timeout_s=1.0)
    ours, plain = [], []
    for _ in range(repeats):
        ours.append(_ours_board(board, BOARD_STREAM_BYTES))
        plain.append(_plain_board(session.port_of("rust"), BOARD_STREAM_BYTES))
    ours_rate = BOARD_STREAM_BYTES / statistics.median(r[0] for r in ours)
    plain_rate = BOARD_STREAM_BYTES / statistics.median(r[0] for r in plain)
    device_us = statistics.median(r[1] for r in ours + plain)
    clock = board.device_clock_domain
    problems = ["payload differs from the firmware's pattern"] if any(r[2] for r in ours + plain) else []
    figures = [
        Figure(f"stream: Rust lesson firmware `tx {BOARD_STREAM_BYTES}` on {board.board_id}",
               BOARD_STREAM_BYTES, "bytes", NO_CLOCK),
        Figure(f"firmware's own time to hand the payload to USB (median of {len(ours) + len(plain)})",
               device_us, "us", clock),
        Figure("... as a rate", round(BOARD_STREAM_BYTES / (device_us / 1e6) / 1000, 1), "KB/s", clock),
        Figure(f"ours, SerialTransport.read_exactly (median of {len(ours)})", round(ours_rate / 1000, 1), "KB/s"),
        Figure(f"plain pyserial read loop (median of {len(plain)})", round(plain_rate / 1000, 1), "KB/s"),
    ]
    return Outcome(NAME, "Rust board tx, ours vs plain pyserial", figures,
                   at_least("ours / plain pyserial", GOAL_RATIO), ours_rate / plain_rate, problems=problems)
