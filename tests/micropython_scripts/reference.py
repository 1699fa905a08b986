"""Reference figures for the lesson kernels, computed independently of the scripts under test (and of the Rust
firmware): zlib for CRC-32, trial division for primes, integer arithmetic for the Fibonacci terms modulo 1,000,000."""
from __future__ import annotations

import math
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


def fib_mod_text(terms: int) -> str:
    """The firmware's `value=` for `bench fib N`: F(N) mod 1,000,000, with Python integers."""
    a, b = 0, 1
    for _ in range(terms):
        a, b = b, (a + b) % 1_000_000
    return str(a)


def tx_payload(size_bytes: int) -> bytes:
    return bytes(PAYLOAD_FIRST_BYTE + i % PAYLOAD_PERIOD for i in range(size_bytes))


def work_blocks_check(start: int, end: int) -> int:
    check = 0
    for block in range(start, end):
        check ^= crc32_counting_bytes(256, block)
    return check
