"""Serial throughput both ways over the board's console (USB CDC on a Pico), in the firmware's `tx`/`rx` format.

tx(n): prints `DATA n=N`, writes N payload bytes (byte i = 0x41 + i % 26, the letters A-Z), then a newline and
`OK tx n=N crc=0x%08x us=T`. rx(n): prints `READY rx n=N`, reads N raw bytes from the console and prints
`OK rx n=N crc=0x%08x us=T`, or `ERR rx: timeout after R of N bytes` when the host stops sending.
`us` covers only the transfer. The payload sent to rx must not contain 0x03 (Ctrl-C interrupts the script).
"""
import sys

from kernels import CRC32_INIT, crc32_update, ticks_diff, ticks_us

try:
    from binascii import crc32 as _crc32_c  # C implementation: the CRC must not be what limits the transfer
except ImportError:
    _crc32_c = None

try:
    import select
except ImportError:
    select = None

PAYLOAD_FIRST_BYTE = 0x41   # "A"
PAYLOAD_PERIOD = 26         # A-Z
# A multiple of the payload period, so every chunk starts at "A" and one prepared chunk serves the whole transfer.
TX_CHUNK_BYTES = PAYLOAD_PERIOD * 64
RX_CHUNK_BYTES = 64         # one USB full-speed packet
RX_IDLE_TIMEOUT_MS = 2000   # as the firmware: give up when no byte came for this long


def payload(size_bytes):
    return bytes(PAYLOAD_FIRST_BYTE + i % PAYLOAD_PERIOD for i in range(size_bytes))


def crc32_bytes(data, crc=0):
    """CRC-32 (IEEE) of `data`, continuing from `crc` (zlib convention: start with 0)."""
    if _crc32_c is not None:
        return _crc32_c(data, crc)
    crc ^= CRC32_INIT
    for byte in data:
        crc = crc32_update(crc, byte)
    return crc ^ CRC32_INIT


def _raw_output():
    return getattr(sys.stdout, "buffer", None)


def _flush_text():
    """Hosts with buffered text output (CPython) must not let the framing lines overtake the raw payload."""
    flush = getattr(sys.stdout, "flush", None)
    if flush is not None:
        flush()


def _raw_input():
    return getattr(sys.stdin, "buffer", sys.stdin)


def tx(n):
    chunk = payload(min(n, TX_CHUNK_BYTES))
    view = memoryview(chunk)
    # The CRC of the payload is computed before the clock starts: `us` measures the link, not the CRC.
    crc = 0
    remaining = n
    while remaining:
        count = min(remaining, TX_CHUNK_BYTES)
        crc = crc32_bytes(view[:count], crc)
        remaining -= count
    out = _raw_output()
    print("DATA n=%d" % n)
    _flush_text()
    start = ticks_us()
    remaining = n
    while remaining:
        count = min(remaining, TX_CHUNK_BYTES)
        if out is not None:
            out.write(view[:count])
        else:  # a port without sys.stdout.buffer: the payload is ASCII, so text output carries it unchanged
            sys.stdout.write(chunk[:count].decode())
        remaining -= count
    elapsed_us = ticks_diff(ticks_us(), start)
    _flush_text()
    print()
    print("OK tx n=%d crc=0x%08x us=%d" % (n, crc, elapsed_us))


def _wait_readable(poller):
    if poller is None:
        return True
    return bool(poller.poll(RX_IDLE_TIMEOUT_MS))


def rx(n):
    source = _raw_input()
    poller = None
    if select is not None:
        poller = select.poll()
        poller.register(sys.stdin, select.POLLIN)
    print("READY rx n=%d" % n)
    _flush_text()
    crc = 0
    received = 0
    start = ticks_us()
    while received < n:
        if not _wait_readable(poller):
            print("ERR rx: timeout after %d of %d bytes" % (received, n))
            return
        data = source.read(min(RX_CHUNK_BYTES, n - received))
        if not data:
            print("ERR rx: input closed after %d of %d bytes" % (received, n))
            return
        if isinstance(data, str):
            data = data.encode()
        crc = crc32_bytes(data, crc)
        received += len(data)
    elapsed_us = ticks_diff(ticks_us(), start)
    print("OK rx n=%d crc=0x%08x us=%d" % (n, crc, elapsed_us))
