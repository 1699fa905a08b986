"""Benchmark kernels of the lesson: the same algorithms, with the same results, as the Rust firmware.

Each command function runs one kernel, times it with time.ticks_us() and prints one line in the format of the
Rust firmware's answer (docs/lesson-protocol.md), e.g. `OK crc32 n=65536 crc=0x... us=T`. The pure functions
(`crc32_counting_bytes`, `bubble_sort`, `sieve_count`, `fib_f32`, `work_blocks`) return their result and print
nothing, so other scripts (jitter, dual) reuse the same work.
"""

try:
    from time import ticks_diff, ticks_us
except ImportError:  # host CPython (the scripts' own tests): the same API over the host clock
    from time import perf_counter_ns

    def ticks_us():
        return perf_counter_ns() // 1000

    def ticks_diff(end, start):
        return end - start

CRC32_POLY_REFLECTED = 0xEDB88320
CRC32_INIT = 0xFFFFFFFF
BYTE_MASK = 0xFF
# The Rust firmware's limits for `bench KERNEL N`, so both sides accept the same sizes.
MAX_CRC_BYTES = 16 * 1024 * 1024
MAX_SORT_VALUES = 1000
MAX_SIEVE_LIMIT = 100000
MAX_FIB_TERMS = 1000000
# One unit of `jitter` and `dual` work: the CRC-32 of 256 counting bytes starting at the block index.
WORK_BLOCK_BYTES = 256

# A Pico's MicroPython has single-precision floats (like Rust's f32); the unix port and host CPython (where the
# framework's tests run these scripts) have double precision. The Fibonacci kernel keeps every term below
# FIB_MODULUS, so each sum is an integer below 2**24 and exact in either precision: every port computes the value
# the Rust firmware computes.
SINGLE_PRECISION_FLOATS = (1.0 + 1e-8) == 1.0
FLOAT_BITS = 32 if SINGLE_PRECISION_FLOATS else 64
FIB_MODULUS = 1000000.0


def crc32_update(crc, byte):
    """One byte of CRC-32 (IEEE, reflected), bit by bit: the Rust firmware does the same work per byte."""
    crc ^= byte
    for _ in range(8):
        if crc & 1:
            crc = (crc >> 1) ^ CRC32_POLY_REFLECTED
        else:
            crc >>= 1
    return crc


def crc32_counting_bytes(size_bytes, first=0):
    """CRC-32 over the bytes (first + i) & 0xff for i in 0..size_bytes."""
    crc = CRC32_INIT
    for i in range(first, first + size_bytes):
        crc = crc32_update(crc, i & BYTE_MASK)
    return crc ^ CRC32_INIT


def fill_reversed(count):
    """[N, N-1, ..., 1]: the worst case for bubble sort."""
    return list(range(count, 0, -1))


def bubble_sort(values):
    """Plain bubble sort in place: n-1 passes, each one shorter, no early exit (as the firmware)."""
    n = len(values)
    for done in range(n - 1):
        for j in range(n - 1 - done):
            if values[j] > values[j + 1]:
                values[j], values[j + 1] = values[j + 1], values[j]


def is_sorted(values):
    for i in range(len(values) - 1):
        if values[i] > values[i + 1]:
            return False
    return True


def sieve_count(limit):
    """Sieve of Eratosthenes with one byte per number: the number of primes below `limit`.

    The flags start zeroed (bytearray(n) is one cleared block, as the firmware's fill) and 1 marks a composite.
    """
    if limit < 3:
        return 0
    composite = bytearray(limit)
    i = 2
    while i * i < limit:
        if not composite[i]:
            for multiple in range(i * i, limit, i):
                composite[multiple] = 1
        i += 1
    return limit - 2 - sum(composite)  # 0 and 1 are never marked and are not primes


def fib_f32(terms):
    """Float Fibonacci modulo 1,000,000: a, b = 0.0, 1.0, then `terms` times a, b = b, (a + b) mod 1e6 (one compare,
    at most one subtraction); the result is a, i.e. F(terms) mod 1,000,000, finite for any number of terms."""
    a, b = 0.0, 1.0
    for _ in range(terms):
        following = a + b
        if following >= FIB_MODULUS:
            following -= FIB_MODULUS
        a, b = b, following
    return a


def float_to_integer_text(value):
    """A Fibonacci term as the firmware prints it: the exact integer (terms are integer-valued, below 1e6)."""
    return str(int(value))


def work_block(block_index):
    return crc32_counting_bytes(WORK_BLOCK_BYTES, block_index)


def work_blocks(start, end):
    """XOR of the CRCs of blocks start..end (XOR lets halves computed anywhere combine in any order)."""
    check = 0
    for block in range(start, end):
        check ^= work_block(block)
    return check


def _in_range(n, low, high):
    if low <= n <= high:
        return True
    print("ERR bench: %d out of range %d..=%d" % (n, low, high))
    return False


def crc32(n):
    """`bench crc32 N`: prints `OK crc32 n=N crc=0x%08x us=T`."""
    if not _in_range(n, 0, MAX_CRC_BYTES):
        return
    start = ticks_us()
    crc = crc32_counting_bytes(n)
    elapsed_us = ticks_diff(ticks_us(), start)
    print("OK crc32 n=%d crc=0x%08x us=%d" % (n, crc, elapsed_us))


def sort(n):
    """`bench sort N`: bubble sort of N reversed ints; prints `OK sort n=N ok=1 us=T`."""
    if not _in_range(n, 0, MAX_SORT_VALUES):
        return
    values = fill_reversed(n)
    start = ticks_us()
    bubble_sort(values)
    elapsed_us = ticks_diff(ticks_us(), start)
    print("OK sort n=%d ok=%d us=%d" % (n, 1 if is_sorted(values) else 0, elapsed_us))


def sieve(n):
    """`bench sieve N`: prints `OK sieve n=N primes=P us=T`; a heap too small for N bytes is said, not hidden."""
    if not _in_range(n, 0, MAX_SIEVE_LIMIT):
        return
    start = ticks_us()
    try:
        primes = sieve_count(n)
    except MemoryError:
        print("ERR sieve: MemoryError allocating %d bytes" % n)
        return
    elapsed_us = ticks_diff(ticks_us(), start)
    print("OK sieve n=%d primes=%d us=%d" % (n, primes, elapsed_us))


def fib(n):
    """`bench fib N`: prints `OK fib n=N value=V us=T float_bits=B` (B: the port's own float width)."""
    if not _in_range(n, 0, MAX_FIB_TERMS):
        return
    start = ticks_us()
    value = fib_f32(n)
    elapsed_us = ticks_diff(ticks_us(), start)
    print("OK fib n=%d value=%s us=%d float_bits=%d" % (n, float_to_integer_text(value), elapsed_us, FLOAT_BITS))
