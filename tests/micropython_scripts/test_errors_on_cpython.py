"""errors.parse accepts exactly what the firmware's `parse TEXT` accepts and fails with the same reasons."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("text", ["0", "42", "-17", "+8", "2147483647", "-2147483648", "007"])
def test_parse_reads_signed_32_bit_integers(lesson, text):
    assert lesson("errors").parse(text) == int(text)


@pytest.mark.parametrize("text, reason", [
    ("", "empty input"),
    ("12x4", "invalid digit at position 2"),
    ("-", "invalid digit at position 1"),
    ("+", "invalid digit at position 1"),
    (" 1", "invalid digit at position 0"),
    ("2147483648", "number does not fit in i32"),
    ("-2147483649", "number does not fit in i32"),
    ("9" * 40, "number does not fit in i32"),
])
def test_parse_raises_value_error_with_the_firmware_reason(lesson, text, reason):
    with pytest.raises(ValueError) as raised:
        lesson("errors").parse(text)
    assert str(raised.value) == reason


def test_parse_safe_handles_the_error_and_prints_the_firmware_lines(lesson, capsys):
    errors = lesson("errors")
    errors.parse_safe("12x4")
    errors.parse_safe("-5")
    assert capsys.readouterr().out.splitlines() == ["ERR parse: invalid digit at position 2", "OK parse value=-5"]


def test_divide_by_zero_is_an_uncaught_exception(lesson):
    errors = lesson("errors")
    assert errors.divide(7, 2) == 3.5
    with pytest.raises(ZeroDivisionError):
        errors.divide(1, 0)
