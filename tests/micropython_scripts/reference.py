"""Reference figures for the lesson kernels, computed independently of the scripts under test (and of the Rust
firmware): zlib for CRC-32, trial division for primes, struct's single-precision packing for f32 Fibonacci."""
from __future__ import annotations

import math
import struct
import zlib

PAYLOAD_FIRST_BYTE = 0x41
PAYLOAD_PERIOD = 26


def crc32_counting_bytes(size_bytes: int, first: int = 0) -> int:
    return zlib.crc32(bytes((first + i) & 0xFF for i in range(size_bytes)))


def primes_below(limit: int) -> int:
    """Trial division up to the square root: a different algorithm from the sieve under test."""
    count = 0
    for candidate in range(2, limit):
        if all(candidate % d for d in range(2, math.isqrt(candidate) + 1)):
            count += 1
    return count


def to_f32(value: float) -> float:
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:  # rounds past the largest single-precision value
        return math.inf


def fib_f32_text(terms: int) -> str:
    """The firmware's `value=` for `bench fib N`: the last f32 term as an exact integer, or `inf`."""
    a, b = 0.0, 1.0
    for _ in range(terms):
        a, b = b, to_f32(a + b)
    return "inf" if math.isinf(a) else str(int(a))


def tx_payload(size_bytes: int) -> bytes:
    return bytes(PAYLOAD_FIRST_BYTE + i % PAYLOAD_PERIOD for i in range(size_bytes))


def work_blocks_check(start: int, end: int) -> int:
    check = 0
    for block in range(start, end):
        check ^= crc32_counting_bytes(256, block)
    return check
