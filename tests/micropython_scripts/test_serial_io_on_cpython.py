"""serial_io under host CPython, as a separate process with real pipes for stdout and stdin."""
from __future__ import annotations

import sys
import zlib

from hil.process import run_tool
from tests.micropython_scripts import reference
from tests.micropython_scripts.answer_line import parse_answer
from tests.micropython_scripts.lesson_paths import LESSON_DIR

PYTHON_RUN_TIMEOUT_S = 30.0


def run_python(code: str, stdin_bytes: bytes | None = None):
    return run_tool([sys.executable, "-B", "-c", code], timeout_s=PYTHON_RUN_TIMEOUT_S, cwd=LESSON_DIR,
                    stdin_bytes=stdin_bytes)


def test_tx_frames_the_payload_in_order_through_buffered_stdout():
    result = run_python("import serial_io; serial_io.tx(4000)")
    payload = reference.tx_payload(4000).decode()
    head, rest = result.stdout.split("\n", 1)
    assert head == "DATA n=4000"
    assert rest[:4000] == payload
    status, word, fields = parse_answer(rest[4000:].strip())
    assert (status, word, fields["n"], int(fields["crc"], 16)) == ("OK", "tx", "4000", zlib.crc32(payload.encode()))


def test_rx_reads_a_pipe_and_reports_the_crc():
    data = bytes(range(4, 250)) * 10
    result = run_python(f"import serial_io; serial_io.rx({len(data)})", data)
    ready, answer = result.stdout.splitlines()
    assert ready == f"READY rx n={len(data)}"
    fields = parse_answer(answer)[2]
    assert int(fields["crc"], 16) == zlib.crc32(data)


def test_rx_reports_a_closed_input_instead_of_hanging():
    result = run_python("import serial_io; serial_io.rx(500)", b"xyz" * 10)
    assert result.stdout.splitlines()[-1] == "ERR rx: input closed after 30 of 500 bytes"
