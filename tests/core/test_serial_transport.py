"""The serial transport, over real pseudo-terminals."""
from __future__ import annotations

import re
import threading
import time

import pytest

from hil.errors import GarbledSerial, PortVanished, StepTimeout
from hil.transport.serial_log import SerialLog
from hil.transport.serial_transport import SerialTransport
from tests.core.pty_device import PtyDevice


@pytest.fixture
def device(tmp_path):
    dev = PtyDevice(tmp_path / "ttyPICO")
    yield dev
    dev.close()


@pytest.fixture
def transport(device, tmp_path):
    t = SerialTransport(device.locate, board_id="pico-a", log=SerialLog(tmp_path / "serial.log"))
    t.open(timeout_s=2)
    yield t
    t.close()


def test_expect_returns_the_match_with_named_groups(device, transport):
    device.send(b"booting\r\nOK crc32 n=4 crc=0xb63cfbcd us=17\r\n")
    match = transport.expect(r"OK crc32 .* us=(?P<us>\d+)", timeout_s=2)
    assert match.group("us") == "17"


def test_expect_consumes_only_through_the_match(device, transport):
    device.send(b"first\nsecond\n")
    transport.expect("first", timeout_s=1)
    assert transport.expect(r"^(\w+)$", timeout_s=1).group(1) == "second"


def test_write_reaches_the_device(device, transport):
    transport.write("id\n")
    assert device.receive(3) == b"id\n"


def test_timeout_names_pattern_tail_and_log(device, transport, tmp_path):
    device.send(b"partial answer without the word")
    start = time.monotonic()
    with pytest.raises(StepTimeout) as caught:
        transport.expect("NEVER", timeout_s=0.3)
    elapsed_s = time.monotonic() - start
    assert 0.3 <= elapsed_s < 1.3
    message = str(caught.value)
    assert "'NEVER'" in message and "partial answer without the word" in message
    assert str(tmp_path / "serial.log") in message and "pico-a" in message


def test_garbage_bytes_are_reported_as_garbled_not_as_a_plain_timeout(device, transport):
    device.send(bytes(range(0, 32)) * 4)
    with pytest.raises(GarbledSerial, match="not text"):
        transport.expect("OK", timeout_s=0.3)


def test_bulk_read_of_a_large_stream_is_complete_and_in_order(device, transport):
    payload = bytes(i % 251 for i in range(1_000_000))
    sender = threading.Thread(target=device.send, args=(payload,))
    sender.start()
    received = transport.read_exactly(len(payload), timeout_s=20)
    sender.join()
    assert received == payload


def test_bulk_reads_take_many_bytes_per_read(device, transport, tmp_path):
    payload = b"x" * 200_000
    sender = threading.Thread(target=device.send, args=(payload,))
    sender.start()
    transport.read_exactly(len(payload), timeout_s=10)
    sender.join()
    rx_lines = [line for line in (tmp_path / "serial.log").read_text().splitlines() if " RX " in line]
    # One log line per read: a byte-at-a-time reader would need 200,000 of them.
    assert len(rx_lines) < 2_000


def test_every_byte_is_logged_with_a_timestamp_and_direction(device, transport, tmp_path):
    transport.write(b"ping\n")
    device.send(b"OK pong\r\n")
    transport.expect("OK pong", timeout_s=1)
    log = (tmp_path / "serial.log").read_text()
    assert re.search(r"^\[\s*\d+\.\d{6}\] TX ping\\n$", log, re.MULTILINE)
    assert re.search(r"^\[\s*\d+\.\d{6}\] RX OK pong\\r\\n$", log, re.MULTILINE)


def test_port_that_reappears_after_reset_is_found_again(device, transport):
    device.send(b"before reset\n")
    transport.expect("before reset", timeout_s=1)
    device.reenumerate(absent_s=0.4)

    def answer_later():
        time.sleep(0.8)
        device.send(b"READY lesson\n")

    threading.Thread(target=answer_later).start()
    assert transport.expect("READY lesson", timeout_s=3)
    assert transport.reconnects == 1


def test_port_gone_for_good_raises_port_vanished_within_the_deadline(device, transport):
    device.vanish()
    start = time.monotonic()
    with pytest.raises(PortVanished) as caught:
        transport.expect("anything", timeout_s=0.5)
    assert time.monotonic() - start < 1.5
    assert "pico-a" in str(caught.value)
