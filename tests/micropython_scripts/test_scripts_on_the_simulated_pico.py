"""The lesson scripts run unmodified on the simulated Pico (MicroPython's own RPI_PICO firmware in the emulated
RP2040) and print the Rust firmware's answer lines with the figures the firmware computes."""
from __future__ import annotations

import zlib

import pytest

from tests.micropython_scripts import reference
from tests.micropython_scripts.answer_line import only_answer, parse_answer


def test_the_port_is_a_pico_with_single_precision_floats_and_threads(micropython_board):
    run = micropython_board("import platform_info; platform_info.info()")
    fields = only_answer(run.lines, "info")
    assert fields["platform"] == "rp2"
    assert fields["version"] == "1.27.0"
    assert fields["float_bits"] == "32"
    assert fields["thread"] == "1"
    assert run.lines[-1].endswith(" machine=Raspberry Pi Pico with RP2040")   # free text, last on the line


def test_compute_kernels_give_the_firmware_figures(micropython_board):
    run = micropython_board(
        "import kernels\n"
        "kernels.crc32(1024)\n"
        "kernels.sort(100)\n"
        "kernels.sieve(20000)\n"
        "kernels.fib(30)\n"
    )
    assert run.returncode == 0, run.stderr
    crc = only_answer(run.lines, "crc32")
    assert crc["n"] == "1024" and int(crc["crc"], 16) == reference.crc32_counting_bytes(1024)
    assert only_answer(run.lines, "sort")["ok"] == "1"
    assert only_answer(run.lines, "sieve")["primes"] == str(reference.primes_below(20000))
    assert only_answer(run.lines, "fib")["value"] == reference.fib_mod_text(30) == "832040"
    for word in ("crc32", "sort", "sieve", "fib"):
        assert int(only_answer(run.lines, word)["us"]) > 0   # the board's 1 MHz timer advanced


@pytest.mark.parametrize("terms", [37, 187, 800])
def test_fib_is_exact_in_single_precision_natively(micropython_board, terms):
    fields = only_answer(micropython_board(f"import kernels; kernels.fib({terms})").lines, "fib")
    assert fields["value"] == reference.fib_mod_text(terms)
    assert fields["float_bits"] == "32"


def test_an_uncaught_exception_ends_the_script_with_a_traceback(micropython_board):
    run = micropython_board("import errors\nprint('before')\nerrors.divide(1, 0)\nprint('after')")
    assert run.returncode == 1
    assert run.lines == ["before"]
    assert "ZeroDivisionError" in run.stderr and "divide" in run.stderr


def test_a_handled_error_prints_err_and_the_script_continues(micropython_board):
    run = micropython_board("import errors\nerrors.parse_safe('12x4')\nerrors.parse_safe('2147483647')\n"
                            "print('after')")
    assert run.returncode == 0, run.stderr
    assert run.lines == ["ERR parse: invalid digit at position 2", "OK parse value=2147483647", "after"]


def test_tx_sends_the_alphabet_payload_framed_like_the_firmware(micropython_board):
    size_bytes = 5000  # more than one 1664-byte chunk, not a multiple of it
    run = micropython_board(f"import serial_io; serial_io.tx({size_bytes})")
    assert run.returncode == 0, run.stderr
    payload = reference.tx_payload(size_bytes)
    head = f"DATA n={size_bytes}\n"
    assert run.stdout.startswith(head)
    assert run.stdout[len(head):len(head) + size_bytes] == payload.decode()
    tail = run.stdout[len(head) + size_bytes:]
    assert tail.startswith("\nOK tx ")
    status, word, fields = parse_answer(tail.strip())
    assert (fields["n"], int(fields["crc"], 16)) == (str(size_bytes), zlib.crc32(payload))


def test_rx_reads_exactly_n_bytes_and_reports_their_crc(micropython_board):
    data = reference.tx_payload(3000)
    run = micropython_board("import serial_io; serial_io.rx(3000); print('after')", data)
    assert run.lines[0] == "READY rx n=3000"
    fields = only_answer(run.lines, "rx")
    assert (fields["n"], int(fields["crc"], 16)) == ("3000", zlib.crc32(data))
    assert run.lines[-1] == "after"


def test_rx_says_how_much_arrived_when_the_host_stops_sending(micropython_board):
    # One whole 64-byte read arrives, then nothing: MicroPython's stdin read blocks until its count is there, so
    # the idle timeout is seen between reads.
    run = micropython_board("import serial_io; serial_io.rx(100)", b"A" * 64)
    assert run.lines[-1] == "ERR rx: timeout after 64 of 100 bytes"


@pytest.mark.parametrize("churn, churn_bytes", [(False, 0), (True, 256), (4096, 4096)])
def test_jitter_reports_consistent_loop_statistics(micropython_board, churn, churn_bytes):
    run = micropython_board(f"import jitter; jitter.run(20, churn={churn}, work_bytes=8)")
    fields = {key: int(value) for key, value in only_answer(run.lines, "jitter").items()}
    assert (fields["n"], fields["churn"], fields["work_bytes"]) == (20, churn_bytes, 8)
    assert 0 < fields["min_us"] <= fields["mean_us"] <= fields["max_us"]
    assert fields["mean_us"] == (fields["total_us"] + 10) // 20
    assert 0 <= fields["gc_runs"] <= 20 and fields["gc_us"] >= 0


def test_dual_runs_the_second_half_on_another_thread_with_the_same_result(micropython_board):
    run = micropython_board("import dual; dual.run(4)")
    assert run.returncode == 0, run.stderr
    fields = only_answer(run.lines, "dual")
    assert fields["cores"] == "2" and int(fields["single_us"]) > 0 and int(fields["dual_us"]) > 0
    assert int(fields["check"], 16) == reference.work_blocks_check(0, 4)


def test_memory_report_adds_up_and_an_allocation_larger_than_the_heap_fails(micropython_board):
    run = micropython_board("import memory\nmemory.report()\nmemory.big()\nmemory.big(300 * 1024)\nprint('alive')",
                            fresh=True)
    assert run.returncode == 0, run.stderr
    mem = only_answer(run.lines[:1], "mem")
    assert int(mem["free"]) + int(mem["alloc"]) == int(mem["heap"]) > 0
    assert 150_000 < int(mem["heap"]) < 270_000   # a Pico's MicroPython heap, not a host's
    small, huge = (parse_answer(line)[2] for line in run.lines[1:3])
    assert (small["size"], small["result"]) == ("65536", "ok")
    assert (huge["size"], huge["result"]) == ("307200", "MemoryError")
    assert run.lines[-1] == "alive"
