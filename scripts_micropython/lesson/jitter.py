"""Loop timing jitter: the firmware's `jitter N` loop body (one CRC-32 work block per iteration), each iteration
timed, with and without allocation churn that makes the garbage collector run.

run(n, churn=False) prints `OK jitter n=N min_us=A max_us=B mean_us=C total_us=T gc_runs=K gc_us=G churn=0|1`:
- min/max/mean/total as the firmware (mean rounded to the nearest µs);
- gc_runs: collections seen during the loop (the heap's allocated size dropped across an iteration);
- gc_us: the time those iterations took beyond the fastest iteration, i.e. what the collections cost the loop.
Even without churn the MicroPython body allocates (CRC values above 2**30 are heap integers on a Pico), which is
part of the lesson: Rust's loop never allocates.
"""
import gc

from kernels import ticks_diff, ticks_us, work_block

CHURN_OBJECT_BYTES = 256   # garbage allocated per iteration with churn: a quarter of a kilobyte
MIN_ITERATIONS = 1
MAX_ITERATIONS = 100000    # the firmware's limit


def run(n, churn=False):
    if not (MIN_ITERATIONS <= n <= MAX_ITERATIONS):
        print("ERR jitter: %d out of range %d..=%d" % (n, MIN_ITERATIONS, MAX_ITERATIONS))
        return
    # Results go into storage allocated up front, so recording them does not itself make the collector run.
    times_us = [0] * n
    collected = bytearray(n)
    keep = None
    gc.collect()  # start every run from the same heap state
    for i in range(n):
        allocated_before = gc.mem_alloc()
        start = ticks_us()
        work_block(i)
        if churn:
            keep = bytearray(CHURN_OBJECT_BYTES)  # replaced next iteration: garbage for the collector
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
    print("OK jitter n=%d min_us=%d max_us=%d mean_us=%d total_us=%d gc_runs=%d gc_us=%d churn=%d"
          % (n, min_us, max_us, mean_us, total_us, gc_runs, gc_us, 1 if churn else 0))
