"""Text for the HTML report: escaping of arbitrary text (serial bytes included) and display of figures."""
from __future__ import annotations

import html
import math

UNIT_LABELS = {"us": "µs", "x": "×"}
UNSPACED_UNITS = {"×"}   # "98.3×" reads as a ratio; "98.3 ×" reads like a product
# Characters that must not reach HTML raw: C0/C1 controls (except tab and newline) and lone surrogates, which
# cannot even be encoded as UTF-8. They are shown as escapes, so the evidence still says what was received.
_KEEP_CONTROLS = {"\n", "\t"}
_SURROGATES = range(0xD800, 0xE000)


def visible(text: str) -> str:
    """`text` with control characters and lone surrogates replaced by \\xNN / \\uNNNN escapes."""
    out = []
    for char in str(text):
        code = ord(char)
        if char in _KEEP_CONTROLS:
            out.append(char)
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif code in _SURROGATES:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def escape(text) -> str:
    """Safe inside HTML text and inside double- or single-quoted attribute values."""
    return html.escape(visible("" if text is None else str(text)), quote=True)


def unit_label(unit: str) -> str:
    return UNIT_LABELS.get(unit, unit)


def format_number(value) -> str:
    """Integers with thousands separators; other numbers with four significant figures, no exponent below 1e15."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1e-3:
        digits = max(0, 3 - int(math.floor(math.log10(magnitude))))
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def format_figure(value, unit: str) -> str:
    """'176,000 µs', '1.25×', 'halted'."""
    label = unit_label(unit or "")
    text = format_number(value)
    if label in UNSPACED_UNITS:
        return f"{text}{label}"
    return f"{text} {label}" if label else text
