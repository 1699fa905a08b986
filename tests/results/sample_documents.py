"""Results documents shaped like the pytest plugin writes them, for the report and merge tests."""
from __future__ import annotations

import copy

HOSTILE_EVIDENCE = ("</pre></details></td></tr></table><script>alert('x')</script>"
                    "<img src=x onerror=alert(1)> \" ' & \x00\x1b[31mred\x1b[0m \x07 \udc80 end")


def metric(name, value, unit, clock_domain, board=None):
    return {"name": name, "value": value, "unit": unit, "clock_domain": clock_domain, "board": board}


def claim(claim_id, status, text, metrics=(), reason=None, evidence=None, boards=None):
    return {"id": claim_id, "name": claim_id.split("::")[-1], "claim": text, "scenario": claim_id.split("::")[0],
            "status": status, "reason": reason, "duration_s": 1.25, "metrics": list(metrics),
            "boards": boards or {}, "evidence": evidence or {}}


RUST_BOARD = {"id": "rust-1", "runtime": "rust", "serial_number": "E6614C311B4A2F21", "build_id": "0123456789abcdef"}
MPY_BOARD = {"id": "mpy-1", "runtime": "micropython", "serial_number": "E66138528361BD2A"}


def lesson_document(host="runner-a", bench="benches/lab.yaml", started_at="2026-11-24T09:00:00+0000",
                    interrupted=False) -> dict:
    boards = {"rust-1": RUST_BOARD, "mpy-1": MPY_BOARD}
    claims = [
        claim("scenarios/compute.yaml::bubble-sort", "passed",
              "Bubble sort of 1000 reversed ints is about 100x faster in Rust than in MicroPython.",
              [metric("rust_sort_us", 176000, "us", "device", "rust-1"),
               metric("mpy_sort_us", 18874000, "us", "device", "mpy-1"),
               metric("speedup", 107.2, "x", "none")], boards=boards,
              evidence={"serial log": "bench sort 1000\nOK sort n=1000 ok=1 us=176000\n"}),
        claim("scenarios/compute.yaml::crc32", "failed", "CRC32 of 64 KiB is at least 50x faster in Rust.",
              [metric("rust_crc32_us", 9000, "us", "device", "rust-1"),
               metric("mpy_crc32_us", 300000, "us", "device", "mpy-1")],
              reason="ratio 33.3 is below 50", boards=boards,
              evidence={"failure": "AssertionError: ratio 33.3 is below 50", "serial log": HOSTILE_EVIDENCE}),
        claim("scenarios/serial.yaml::tx", "passed", "MicroPython's stdout reaches about 0.9 MB/s over USB.",
              [metric("rust_tx_bytes_per_s", 1100000, "bytes/s", "host", "rust-1"),
               metric("mpy_tx_bytes_per_s", 870000, "bytes/s", "host", "mpy-1")], boards=boards),
        claim("scenarios/jitter.yaml::gc", "not-comparable", "GC makes MicroPython's loop time jitter.",
              [metric("rust_jitter_max_us", 41, "us", "rp2040js-virtual", "rust-1"),
               metric("mpy_jitter_max_us", 3000, "us", "wasm-host", "mpy-1")],
              reason="not comparable on this bench: rp2040js-virtual vs wasm-host", boards=boards),
        claim("scenarios/panic.yaml::panic-vs-exception", "error",
              "An unhandled error halts Rust firmware but leaves MicroPython's REPL usable.",
              [metric("rust.state", "halted", "", "none", "rust-1")], reason="BoardHalted: board 'rust-1' halted",
              evidence={"panic": "PANIC called `Option::unwrap()` on a `None` value at src/commands.rs:248"},
              boards={"rust-1": RUST_BOARD}),
        claim("scenarios/dual.yaml::dual-core", "skipped", "Rust splits work over both cores.", [],
              reason="no second core on this bench"),
        claim("scenarios/memory.yaml::free-memory", "interrupted", "MicroPython has about 210 KB free.",
              [metric("mpy_free_bytes", 210000, "bytes", "none", "mpy-1")],
              reason="the run was interrupted while this test was running"),
    ]
    return {"format": "pico-hil-results/1",
            "run": {"started_at": started_at, "host": host, "finished_at": "2026-11-24T09:05:00+0000",
                    "interrupted": interrupted, "bench": bench, "argv": ["-m", "hil"],
                    "bench_facts": {"tools": {"probe-rs": "probe-rs 0.29.1", "mpremote": "1.29.0"}}},
            "claims": copy.deepcopy(claims)}
