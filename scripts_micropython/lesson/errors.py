"""Errors in MicroPython: an uncaught exception ends the script but the REPL keeps working; a caught one is the
counterpart of the Rust firmware's explicitly handled `Result`.

`parse` accepts what the firmware's `parse TEXT` accepts (a signed decimal integer that fits in 32 bits) and
fails with the firmware's own messages, so both sides can be compared line for line.
"""

I32_MIN = -(2 ** 31)
I32_MAX = 2 ** 31 - 1


def divide(a, b):
    """a / b. divide(1, 0) raises ZeroDivisionError: uncaught, it prints a traceback and the REPL stays usable."""
    return a / b


def parse(text):
    """The integer in `text`, or ValueError with the reason (`empty input`, `invalid digit at position P`,
    `number does not fit in i32`)."""
    if not text:
        raise ValueError("empty input")
    start = 1 if text[0] in "+-" else 0
    if start == len(text):
        raise ValueError("invalid digit at position %d" % start)
    value = 0
    for position in range(start, len(text)):
        digit = text[position]
        if not ("0" <= digit <= "9"):
            raise ValueError("invalid digit at position %d" % position)
        value = value * 10 + (ord(digit) - ord("0"))
        if value > I32_MAX + 1:  # stop early: the text may be very long
            raise ValueError("number does not fit in i32")
    if text[0] == "-":
        value = -value
    if not (I32_MIN <= value <= I32_MAX):
        raise ValueError("number does not fit in i32")
    return value


def parse_safe(text):
    """`parse TEXT` with the error handled: prints `OK parse value=V` or `ERR parse: <reason>` and carries on."""
    try:
        value = parse(text)
    except ValueError as error:
        print("ERR parse: %s" % error)
        return
    print("OK parse value=%d" % value)
