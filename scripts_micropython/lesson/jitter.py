"""Loop timing jitter: the firmware's `jitter N` loop body (one CRC-32 work block per iteration), each iteration
timed, with and without allocation churn that makes the garbage collector run.

run(n, churn=False, work_bytes=256) prints
`OK jitter n=N min_us=A max_us=B mean_us=C total_us=T gc_runs=K gc_us=G churn=C work_bytes=W slowest_gc=S`:
- churn: bytes of garbage each iteration leaves (True: 256; 0: none);
- work_bytes: the body's CRC-32 length (256: the firmware's work block; a shorter body shows a collection's pause
  against a smaller typical iteration);
- min/max/mean/total as the firmware (mean rounded to the nearest µs);
- gc_runs: collections seen during the loop (the heap's allocated size dropped across an iteration);
- gc_us: the time those iterations took beyond the fastest iteration, i.e. what the collections cost the loop;
- slowest_gc: 1 if a collection ran during the slowest iteration (the pause is the collector's), else 0.
Even without churn the MicroPython body allocates (CRC values above 2**30 are heap integers on a Pico), which is
part of the lesson: Rust's loop never allocates.
"""
import gc

from kernels import WORK_BLOCK_BYTES, crc32_counting_bytes, ticks_diff, ticks_us

CHURN_OBJECT_BYTES = 256   # garbage allocated per iteration with churn=True: a quarter of a kilobyte
MIN_ITERATIONS = 1
MAX_ITERATIONS = 100000    # the firmware's limit


def run(n, churn=False, work_bytes=WORK_BLOCK_BYTES):
    if not (MIN_ITERATIONS <= n <= MAX_ITERATIONS):
        print("ERR jitter: %d out of range %d..=%d" % (n, MIN_ITERATIONS, MAX_ITERATIONS))
        return
    churn_bytes = CHURN_OBJECT_BYTES if churn is True else int(churn)
    # Results go into storage allocated up front, so recording them does not itself make the collector run.
    times_us = [0] * n
    collected = bytearray(n)
    keep = None
    gc.collect()  # start every run from the same heap state
    for i in range(n):
        allocated_before = gc.mem_alloc()
        start = ticks_us()
        crc32_counting_bytes(work_bytes, i)
        if churn_bytes:
            keep = bytearray(churn_bytes)  # replaced next iteration: garbage for the collector
        elapsed_us = ticks_diff(ticks_us(), start)
        times_us[i] = elapsed_us
        collected[i] = 1 if gc.mem_alloc() < allocated_before else 0
    del keep
    min_us = min(times_us)
    max_us = max(times_us)
    total_us = sum(times_us)
    mean_us = (total_us + n // 2) // n
    gc_runs = 0
    gc_us = 0
    for elapsed_us, was_collected in zip(times_us, collected):
        if was_collected:
            gc_runs += 1
            gc_us += elapsed_us - min_us
    slowest_gc = collected[times_us.index(max_us)]
    print("OK jitter n=%d min_us=%d max_us=%d mean_us=%d total_us=%d gc_runs=%d gc_us=%d churn=%d work_bytes=%d"
          " slowest_gc=%d" % (n, min_us, max_us, mean_us, total_us, gc_runs, gc_us, churn_bytes, work_bytes,
                              slowest_gc))
