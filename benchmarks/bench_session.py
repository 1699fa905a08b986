"""The bench a benchmark run uses: a private simulated bench (its own sim dir, so it never meets another run's
boards) or the physical bench a bench file names; its boards, the lesson artifacts and a scratch folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hil.bench.bench import Bench
from hil.bench.bench_factory import load_bench_config, open_bench
from hil.board.board import Board
from hil.board.board_factory import make_board
from hil.scenario.artifacts import Artifacts
from hil.sim.sim_bench import SimBench

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
# Recorded in bench.json. Not "sim-bench": a supervisor SimBench did not start is never stopped by a SimBench, so
# each tool the benchmarks run (`hil deploy`, pytest) joins and leaves it without waiting to see whether it is the
# last user, exactly as with `hil sim serve`. The session stops it itself.
STARTED_BY = "benchmarks"
SIM_BENCH = "sim"


class BenchSession:
    def __init__(self, bench_selector: str = SIM_BENCH, link: str = "usb-fs", xip_cache_model: bool = False):
        self.bench_selector = bench_selector
        self.workdir = Path(tempfile.mkdtemp(prefix="hil-benchmarks-"))
        self.sim_dir: Path | None = None
        config = load_bench_config(bench_selector)
        if config is None or config.kind == "sim":
            # A simulated bench, default or from a `kind: sim` file, always in a sim dir of its own.
            self.sim_dir = self.workdir / "sim"
            self.bench: Bench = (SimBench(sim_dir=self.sim_dir, link=link) if config is None
                                 else SimBench.from_config(config, sim_dir=self.sim_dir))
            self.bench.xip_cache_model = xip_cache_model
        else:
            self.bench = open_bench(bench_selector)
        self.lock_dir = self.workdir / "locks"
        self.artifacts = Artifacts(PROJECT_ROOT)
        self._boards: dict[str, Board] = {}

    @property
    def is_simulated(self) -> bool:
        return isinstance(self.bench, SimBench)

    def start(self) -> "BenchSession":
        if self.sim_dir is not None:
            self.bench.start_supervisor(START_TIMEOUT_S, started_by=STARTED_BY)
        self.bench.start(START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        for board in self._boards.values():
            board.close()
        self.bench.stop()
        if self.sim_dir is not None:
            self.bench.shutdown_supervisor(STOP_TIMEOUT_S)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "BenchSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def board(self, runtime: str) -> Board:
        """The bench's first board of `runtime`, made once per session."""
        if runtime not in self._boards:
            spec = next((s for s in self.bench.specs if s.runtime == runtime), None)
            if spec is None:
                raise LookupError(f"the bench {self.bench.name!r} has no {runtime} board")
            self._boards[runtime] = make_board(self.bench, spec)
        return self._boards[runtime]

    def has_runtime(self, runtime: str) -> bool:
        return any(s.runtime == runtime for s in self.bench.specs)

    def port_of(self, runtime: str, timeout_s: float = 10.0) -> str:
        board = self.board(runtime)
        return self.bench.locate_port(board.spec, timeout_s)

    def release_ports(self) -> None:
        """Close every port this session holds, so a tool (mpremote, pytest) can open them."""
        for board in self._boards.values():
            board.close()

    def pytest_env(self) -> dict[str, str]:
        """Environment for a pytest run on this same bench: same sim dir (shared supervisor), private locks."""
        env = dict(self.bench.tool_env())
        env["HIL_LOCK_DIR"] = str(self.lock_dir)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
        if self.bench_selector != SIM_BENCH:
            env["HIL_BENCH"] = str(Path(self.bench_selector).resolve())
        if self.sim_dir is not None:
            env["HIL_SIM_DIR"] = str(self.sim_dir)
        return env

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path
