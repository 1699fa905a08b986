"""Deadlines that are the step's own: opening an rfc2217:// port whose server never negotiates ends within the
open's deadline (plus a second), not after pyserial's fixed network waits."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from hil.errors import BoardNotFound
from hil.transport.serial_transport import SerialTransport

OPEN_TIMEOUT_S = 0.5
SLACK_S = 1.0


@pytest.fixture
def mute_server():
    """A TCP server that accepts connections and never says a word (no Telnet negotiation)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"rfc2217://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(1)
    for connection in accepted:
        connection.close()
    listener.close()


def test_an_rfc2217_port_that_never_negotiates_fails_within_the_open_deadline(mute_server):
    transport = SerialTransport(mute_server, board_id="remote")
    start = time.monotonic()
    with pytest.raises(BoardNotFound, match="remote"):
        transport.open(OPEN_TIMEOUT_S)
    assert time.monotonic() - start < OPEN_TIMEOUT_S + SLACK_S
