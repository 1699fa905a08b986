"""Building a Board from a bench's spec: the runtime picks the class, the bench gives a Rust board its flasher."""
from __future__ import annotations

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.board.board import Board
from hil.board.micropython_board import MicroPythonBoard
from hil.board.rust_board import RustBoard


BOARD_CLASSES: dict[Runtime, type[Board]] = {Runtime.RUST: RustBoard, Runtime.MICROPYTHON: MicroPythonBoard}


def console_fail_on(runtime: str) -> tuple:
    """The console lines that end any wait on a `runtime` board (see Board.console_fail_on)."""
    return BOARD_CLASSES[Runtime(runtime)].console_fail_on


def make_board(bench: Bench, spec: BoardSpec) -> Board:
    if spec.runtime == Runtime.RUST:
        return RustBoard(spec, bench, bench.flasher(spec))
    from hil.deploy.micropython_deployer import MicroPythonDeployer
    return MicroPythonBoard(spec, bench, MicroPythonDeployer(spec.board_id,
                                                             verify=bool(spec.extra.get("deploy_verify"))))
