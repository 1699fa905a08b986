"""Dual-core speedup with _thread (on a Pico, MicroPython runs a second thread on core 1).

run(n) does the firmware's `dual N` work: the XOR of the CRC-32 of N work blocks, first on this core alone, then
split in two halves, one in a second thread. It prints the firmware's line
`OK dual n=N single_us=A dual_us=B cores=2 check=0x%08x`; on a port without _thread (not a Pico) it prints
`SKIP dual: no _thread on this port` instead of inventing a figure.
"""
from kernels import ticks_diff, ticks_us, work_blocks

try:
    import _thread
except ImportError:
    _thread = None

MIN_BLOCKS = 2
MAX_BLOCKS = 65536
# How long to wait for the second thread, as a multiple of the single-core time (the firmware's rule).
TIMEOUT_FACTOR = 4
TIMEOUT_FLOOR_US = 100000


def run(n):
    if not (MIN_BLOCKS <= n <= MAX_BLOCKS):
        print("ERR dual: %d out of range %d..=%d" % (n, MIN_BLOCKS, MAX_BLOCKS))
        return
    if _thread is None:
        print("SKIP dual: no _thread on this port")
        return
    start = ticks_us()
    single_check = work_blocks(0, n)
    single_us = ticks_diff(ticks_us(), start)

    half = n // 2
    theirs = []  # the thread appends its result: a list append is safe to hand over between threads

    def second_half():
        theirs.append(work_blocks(half, n))

    timeout_us = max(single_us * TIMEOUT_FACTOR, TIMEOUT_FLOOR_US)
    start = ticks_us()
    _thread.start_new_thread(second_half, ())
    mine = work_blocks(0, half)
    while not theirs:
        if ticks_diff(ticks_us(), start) > timeout_us:
            print("ERR dual: second thread did not finish within %d us" % timeout_us)
            return
    dual_us = ticks_diff(ticks_us(), start)
    dual_check = mine ^ theirs[0]
    if dual_check != single_check:
        print("ERR dual: results differ (0x%08x vs 0x%08x)" % (single_check, dual_check))
        return
    print("OK dual n=%d single_us=%d dual_us=%d cores=2 check=0x%08x" % (n, single_us, dual_us, single_check))
