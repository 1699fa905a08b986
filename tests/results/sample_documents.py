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
               metric("mpy_jitter_max_us", 3000, "us", "host", "mpy-1")],
              reason="not comparable on this bench: rp2040js-virtual vs host", boards=boards),
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


# -- a whole lesson run, as the plugin now records it: lesson sentences, assertion records and verdicts ----------

def assertion(label, subject, comparator, bound, value, unit, status="passed", published=None, line=20):
    return {"line": line, "label": label, "status": status, "detail": f"{label}: {value} {comparator} {bound}",
            "subject": list(subject), "comparator": comparator, "bound": bound, "value": value, "unit": unit,
            "published": published}


SIM_RUST = {"id": "sim-rust-0", "runtime": "rust", "serial_number": "SIMRUST0000000000"}
SIM_MPY = {"id": "sim-mpy-0", "runtime": "micropython", "serial_number": "SIMMPY00000000000"}
LESSON_SPEED = "Rust is much faster than MicroPython: about 107 times faster at bubble sort."
LESSON_GIL = ("Concurrency differs: Python's GIL limits parallelism, while Rust can run code on both of the RP2040's "
              "cores.")
CONTRADICTS = "MicroPython's rp2 port has no GIL and runs a _thread on core 1 alongside core 0."


def lesson_run(simulated=True, host="ci-runner", sort_ratio_rust_us=176000, run_id=None) -> dict:
    """A results document of the whole lesson suite on one bench (figures invented for the tests, shaped like
    real ones): simulated (one virtual clock for both runtimes) or two Picos (the device clock)."""
    clock = "rp2040js-virtual" if simulated else "device"
    rust, mpy = (SIM_RUST, SIM_MPY) if simulated else (RUST_BOARD, MPY_BOARD)
    r, m = rust["id"], mpy["id"]
    boards = {r: rust, m: mpy}
    mpy_sort_us = 18874000 if not simulated else 17300000
    sort_ratio = mpy_sort_us / sort_ratio_rust_us
    sort_ok = sort_ratio >= 20

    def lesson_claim(scenario, status, text, lesson, metrics, assertions, reason=None, contradicts=None, **extra):
        record = claim(f"scenarios/{scenario.replace('-', '_')}.yaml::{scenario}", status, text, metrics, reason=reason,
                       boards=boards, **extra)
        record.update(scenario=scenario, lesson=lesson, assertions=assertions)
        if contradicts:
            record["contradicts_lesson"] = contradicts
        return record

    claims = [
        lesson_claim("compute-throughput", "passed" if sort_ok else "failed",
                     "Rust is much faster than MicroPython at the same computation.", LESSON_SPEED,
                     [metric("rust_sort_us", sort_ratio_rust_us, "us", clock, r),
                      metric("mpy_sort_us", mpy_sort_us, "us", clock, m),
                      metric("rust_crc32_us", 9000, "us", clock, r), metric("mpy_crc32_us", 300000, "us", clock, m),
                      metric("rust_provision_s", 3.2, "s", "host", r), metric("mpy_provision_s", 1.1, "s", "host", m)],
                     [assertion("bubble sort, MicroPython time ÷ Rust time", ["mpy_sort_us", "rust_sort_us"],
                                "at_least", 20, sort_ratio, "x", "passed" if sort_ok else "failed", published=107),
                      assertion("CRC32, MicroPython time ÷ Rust time", ["mpy_crc32_us", "rust_crc32_us"],
                                "at_least", 10, 33.3, "x")],
                     reason=None if sort_ok else "ClaimFailed: claim not upheld"),
        lesson_claim("deploy-time", "passed", "MicroPython deploys by copying a file.",
                     "MicroPython code is deployed by copying a file to the board, while Rust code must be compiled "
                     "and flashed.",
                     [metric("rust_deploy_s", 21.4, "s", "host", r), metric("mpy_deploy_s", 0.9, "s", "host", m)],
                     [assertion("MicroPython edit to running code", ["mpy_deploy_s"], "less_than", "rust_deploy_s",
                                0.9, "s")]),
        lesson_claim("panic-vs-exception", "passed", "An unhandled error halts Rust firmware.",
                     "A Rust panic halts the firmware, while a MicroPython exception prints a traceback and leaves "
                     "the REPL alive.", [],
                     [assertion("rust.state equals halted", ["rust.state"], "equals", "halted", "halted", ""),
                      assertion("mpy.state equals ready", ["mpy.state"], "equals", "ready", "ready", "")],
                     evidence={"panic": "PANIC called `Option::unwrap()` on a `None` value at src/commands.rs:248",
                               "serial log": HOSTILE_EVIDENCE}),
        lesson_claim("gc-jitter", "passed", "Rust has no garbage collector.",
                     "Rust has no garbage collector, so a loop never pauses for one; MicroPython's garbage "
                     "collector pauses the program.",
                     [metric("rust_loop_min_us", 40, "us", clock, r), metric("rust_loop_mean_us", 41, "us", clock, r),
                      metric("rust_loop_max_us", 44, "us", clock, r), metric("mpy_loop_min_us", 310, "us", clock, m),
                      metric("mpy_loop_mean_us", 330, "us", clock, m), metric("mpy_loop_max_us", 2900, "us", clock, m),
                      metric("mpy_gc_runs", 12, "", "none", m)],
                     [assertion("Rust slowest ÷ fastest iteration", ["rust_loop_max_us", "rust_loop_min_us"],
                                "at_most", 1.5, 1.1, "x"),
                      assertion("MicroPython slowest ÷ mean iteration", ["mpy_loop_max_us", "mpy_loop_mean_us"],
                                "at_least", 3, 8.79, "x")]),
        lesson_claim("dual-core-micropython", "passed" if not simulated else "skipped",
                     "MicroPython's concurrency on the Pico is _thread.", LESSON_GIL,
                     [metric("mpy_single_core_us", 800000, "us", clock, m),
                      metric("mpy_dual_core_us", 420000, "us", clock, m)] if not simulated else [],
                     [assertion("MicroPython speed-up with a _thread on core 1",
                                ["mpy_single_core_us", "mpy_dual_core_us"], "at_least", 1.2, 1.9, "x")]
                     if not simulated else [],
                     reason=None if not simulated else "this MicroPython port has no _thread", contradicts=CONTRADICTS),
        lesson_claim("micropython-stdin-throughput", "error", "MicroPython takes data in more slowly.",
                     "Rust is much faster than MicroPython.", [], [],
                     reason="StepFailed: scenarios/stdin_throughput.yaml:9: step 1: PortVanished: "
                            "/dev/ttyACM1 went away"),
    ]
    document = {"format": "pico-hil-results/1",
                "run": {"run_id": run_id or ("sim-run" if simulated else "lab-run"), "host": host,
                        "started_at": "2026-11-24T09:00:00+0000", "finished_at": "2026-11-24T09:20:00+0000",
                        "interrupted": False, "bench": "sim" if simulated else "benches/lab.yaml",
                        "bench_facts": {"kind": "SimBench" if simulated else "PhysicalBench", "simulated": simulated,
                                        "boards": [rust, mpy]}},
                "claims": claims}
    from hil.results.verdict import verdict_of
    for record in document["claims"]:
        record["verdict"] = verdict_of(record)
    return copy.deepcopy(document)
