"""The lesson's two boards, through this project's fixture: both runtimes compute the same CRC-32."""
from __future__ import annotations

import re

import pytest

CRC_FIELD = re.compile(r"crc=(0x[0-9a-f]{8})")
COMMAND_TIMEOUT_S = 60.0


@pytest.mark.hil
def test_both_lesson_boards_compute_the_same_crc32(lesson_pair):
    rust_answer = lesson_pair["rust"].command("bench crc32 256", COMMAND_TIMEOUT_S).group(0)
    mpy_answer = lesson_pair["mpy"].exec("import kernels\nkernels.crc32(256)", COMMAND_TIMEOUT_S).stdout
    rust_crc, mpy_crc = CRC_FIELD.search(rust_answer), CRC_FIELD.search(mpy_answer)
    assert rust_crc and mpy_crc, (rust_answer, mpy_answer)
    assert rust_crc.group(1) == mpy_crc.group(1)
