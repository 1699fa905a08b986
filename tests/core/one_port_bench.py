"""A bench of one MicroPython board that is always at one port (a fake board's PTY), timed on the board's clock."""
from __future__ import annotations

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime


class OnePortBench(Bench):
    name = "one-port"

    def __init__(self, port: str, **extra):
        """`extra`: the board's bench-file settings (e.g. deploy_verify=True)."""
        self.port = port
        self.specs = [BoardSpec("pico-m", Runtime.MICROPYTHON, serial_number="FAKE1", flash_method="mpremote",
                                extra=extra)]

    def locate_port(self, spec, timeout_s):
        return self.port

    def attached(self):
        return []

    def device_clock_domain(self, runtime):
        return "device"
