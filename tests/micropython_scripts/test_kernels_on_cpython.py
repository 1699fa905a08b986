"""The kernels are plain Python: under host CPython they compute exactly the reference figures (and therefore
what the Rust firmware computes), and print the firmware's answer lines."""
from __future__ import annotations

import pytest

from tests.micropython_scripts import reference
from tests.micropython_scripts.answer_line import parse_answer


@pytest.mark.parametrize("size_bytes", [0, 1, 255, 256, 257, 4096])
def test_crc32_of_counting_bytes_equals_zlib(lesson, size_bytes):
    kernels = lesson("kernels")
    assert kernels.crc32_counting_bytes(size_bytes) == reference.crc32_counting_bytes(size_bytes)


def test_crc32_matches_the_standard_check_value(lesson):
    kernels = lesson("kernels")
    crc = kernels.CRC32_INIT
    for byte in b"123456789":
        crc = kernels.crc32_update(crc, byte)
    assert crc ^ kernels.CRC32_INIT == 0xCBF43926


def test_crc32_command_prints_the_firmware_answer(lesson, capsys):
    lesson("kernels").crc32(1000)
    status, word, fields = parse_answer(capsys.readouterr().out.strip())
    assert (status, word, fields["n"]) == ("OK", "crc32", "1000")
    assert int(fields["crc"], 16) == reference.crc32_counting_bytes(1000)
    assert fields["crc"] == f"0x{reference.crc32_counting_bytes(1000):08x}"
    assert int(fields["us"]) >= 0


def test_bubble_sort_sorts_reversed_values_with_no_early_exit(lesson):
    kernels = lesson("kernels")
    values = kernels.fill_reversed(300)
    assert (values[0], values[-1], len(values)) == (300, 1, 300)
    kernels.bubble_sort(values)
    assert values == list(range(1, 301))


def test_sort_command_reports_a_sorted_result(lesson, capsys):
    lesson("kernels").sort(200)
    status, word, fields = parse_answer(capsys.readouterr().out.strip())
    assert (status, word, fields["n"], fields["ok"]) == ("OK", "sort", "200", "1")


def test_sizes_beyond_the_firmware_limits_are_refused_with_its_error(lesson, capsys):
    kernels = lesson("kernels")
    kernels.sort(1001)
    kernels.sieve(100001)
    assert capsys.readouterr().out.splitlines() == [
        "ERR bench: 1001 out of range 0..=1000",
        "ERR bench: 100001 out of range 0..=100000",
    ]


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 4, 10, 11, 12, 100, 7919, 7920, 20000])
def test_sieve_counts_primes_below_the_limit(lesson, limit):
    assert lesson("kernels").sieve_count(limit) == reference.primes_below(limit)


def test_sieve_command_of_the_largest_size_finds_9592_primes(lesson, capsys):
    lesson("kernels").sieve(100000)
    status, word, fields = parse_answer(capsys.readouterr().out.strip())
    assert (status, word, fields["primes"]) == ("OK", "sieve", str(reference.primes_below(100000)))


@pytest.mark.parametrize("terms", [0, 1, 2, 10, 30, 31, 50, 100, 186, 187, 800, 5000])
def test_fib_is_the_term_modulo_one_million_like_the_firmware(lesson, terms):
    kernels = lesson("kernels")
    assert kernels.float_to_integer_text(kernels.fib_f32(terms)) == reference.fib_mod_text(terms)


def test_fib_stays_finite_where_plain_single_precision_terms_overflow(lesson, capsys):
    kernels = lesson("kernels")
    kernels.fib(187)
    kernels.fib(800)
    first, second = (parse_answer(line)[2] for line in capsys.readouterr().out.splitlines())
    assert (first["value"], second["value"]) == (reference.fib_mod_text(187), "398725")
    assert first["float_bits"] == "64"  # CPython floats are doubles; the terms stay exact integers below 2**24


def test_work_blocks_split_in_halves_give_the_same_check(lesson):
    kernels = lesson("kernels")
    assert kernels.work_blocks(0, 16) == reference.work_blocks_check(0, 16)
    assert kernels.work_blocks(0, 8) ^ kernels.work_blocks(8, 16) == kernels.work_blocks(0, 16)


def test_dual_splits_the_work_across_two_threads_with_the_same_check(lesson, capsys):
    lesson("dual").run(16)
    status, word, fields = parse_answer(capsys.readouterr().out.strip())
    assert (status, word, fields["n"], fields["cores"]) == ("OK", "dual", "16", "2")
    assert int(fields["check"], 16) == reference.work_blocks_check(0, 16)
