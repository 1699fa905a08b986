"""A bench whose boards are pseudo-terminals made by the test, described in a JSON manifest.

Every pytest-xdist worker builds its own PtyBench from the same manifest (its path travels in an environment
variable), just as every worker opens the same bench file on a real run; the boards themselves (the PTYs' device
sides) live in the test process that made them. Nothing here needs Node, the simulator or hardware.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hil.bench.bench import AttachedBoard, Bench
from hil.bench.board_spec import DEFAULT_FLASH_METHOD, BoardSpec
from hil.board.board import Board
from hil.errors import BoardNotFound, ProvisionError

LOCATE_POLL_S = 0.01

# conftest.py of a pytest run over a PtyBench: every worker builds the same bench from the manifest named by
# HIL_SCALE_MANIFEST and locks its boards in HIL_LOCK_DIR.
POOL_CONFTEST = """
import os
import pytest
from hil.board.board_pool import BoardPool
from tests.scale.pty_bench import ConsoleBoard as Board, PtyBench

@pytest.fixture(scope="session")
def hil_board_pool():
    bench = PtyBench.from_manifest(os.environ["HIL_SCALE_MANIFEST"])
    pool = BoardPool(bench, os.environ["HIL_LOCK_DIR"], lambda spec: Board(spec, bench))
    yield pool
    pool.close()
"""


class ConsoleBoard(Board):
    """A board that is only a serial console: the pool and its locks are what these tests exercise."""

    def is_responsive(self, timeout_s):
        return self.transport.is_open

    def provision(self, artifacts, timeout_s, progress=None):
        raise ProvisionError(self.board_id, "a console-only test board is not provisioned")

    def reset(self, timeout_s):
        raise ProvisionError(self.board_id, "a console-only test board cannot be reset")


class PtyBench(Bench):
    def __init__(self, name: str, boards: list[dict]):
        self.name = name
        self.specs = [BoardSpec(board_id=b["id"], runtime=b["runtime"], port=b["port"],
                                flash_method=DEFAULT_FLASH_METHOD[b["runtime"]], source=f"pty bench {name!r}")
                      for b in boards]

    @classmethod
    def from_manifest(cls, path: str | os.PathLike) -> "PtyBench":
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(document["name"], document["boards"])

    @staticmethod
    def write_manifest(path: str | os.PathLike, name: str, boards: list[dict]) -> Path:
        """boards: [{"id", "runtime", "port"}]; a port is a path or an rfc2217:// URL."""
        Path(path).write_text(json.dumps({"name": name, "boards": boards}), encoding="utf-8")
        return Path(path)

    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        if "://" in spec.port:
            return spec.port   # a network port: whether it answers is found out by opening it
        end = time.monotonic() + timeout_s
        while not os.path.exists(spec.port):
            if time.monotonic() >= end:
                raise BoardNotFound(spec.board_id, f"{spec.port} is absent")
            time.sleep(LOCATE_POLL_S)
        return spec.port

    def attached(self) -> list[AttachedBoard]:
        return [AttachedBoard(s.board_id, s.runtime, s.port, None, None,
                              "present" if "://" in s.port or os.path.exists(s.port) else "missing")
                for s in self.specs]

    def device_clock_domain(self, runtime: str) -> str:
        return "host"   # the test plays the device on this host
