"""Free memory, and what a large allocation does.

report() prints `OK mem free=B alloc=B heap=B` (bytes; after a collection): gc.mem_free(), gc.mem_alloc() and
their sum, the size of the MicroPython heap.
big(size_bytes=65536) tries one bytearray of that size and prints `OK alloc size=S result=ok free=B` or
`OK alloc size=S result=MemoryError free=B`: on a Pico (about 240 KB free after boot) a block larger than the
free heap (e.g. 300 KB) raises MemoryError, and the REPL keeps working.
"""
import gc

BIG_ALLOCATION_BYTES = 64 * 1024


def report():
    gc.collect()
    free = gc.mem_free()
    alloc = gc.mem_alloc()
    print("OK mem free=%d alloc=%d heap=%d" % (free, alloc, free + alloc))


def big(size_bytes=BIG_ALLOCATION_BYTES):
    gc.collect()
    block = None
    try:
        block = bytearray(size_bytes)
        result = "ok"
    except MemoryError:
        result = "MemoryError"
    free = gc.mem_free()  # measured while the block (if any) is held
    del block
    gc.collect()
    print("OK alloc size=%d result=%s free=%d" % (size_bytes, result, free))
