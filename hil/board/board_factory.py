"""Building a Board from a bench's spec: the runtime picks the class, the spec's flash method picks the flasher."""
from __future__ import annotations

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.board.board import Board
from hil.board.micropython_board import MicroPythonBoard
from hil.board.rust_board import RustBoard
from hil.errors import ConfigError


def make_flasher(bench: Bench, spec: BoardSpec):
    env = bench.tool_env()

    def find_port(timeout_s: float) -> str:
        return bench.locate_port(spec, timeout_s)

    if spec.flash_method == "probe-rs":
        from hil.deploy.probe_rs_flasher import ProbeRsFlasher
        return ProbeRsFlasher(spec.board_id, spec.probe, env=env)
    if spec.flash_method == "picotool":
        from hil.deploy.picotool_flasher import PicotoolFlasher
        return PicotoolFlasher(spec.board_id, spec.serial_number, env=env, port_finder=find_port)
    if spec.flash_method == "uf2":
        from hil.deploy.uf2_copy_flasher import Uf2CopyFlasher
        return Uf2CopyFlasher(spec.board_id, spec.serial_number, env=env, port_finder=find_port,
                              usb_port_finder=lambda: bench.usb_port_of(spec))
    raise ConfigError(spec.source or bench.name, None, "flash", f"{spec.flash_method!r} cannot flash Rust firmware")


BOARD_CLASSES: dict[Runtime, type[Board]] = {Runtime.RUST: RustBoard, Runtime.MICROPYTHON: MicroPythonBoard}


def console_fail_on(runtime: str) -> tuple:
    """The console lines that end any wait on a `runtime` board (see Board.console_fail_on)."""
    return BOARD_CLASSES[Runtime(runtime)].console_fail_on


def make_board(bench: Bench, spec: BoardSpec) -> Board:
    if spec.runtime == Runtime.RUST:
        return RustBoard(spec, bench, make_flasher(bench, spec))
    from hil.deploy.micropython_deployer import MicroPythonDeployer
    return MicroPythonBoard(spec, bench, MicroPythonDeployer(spec.board_id,
                                                             verify=bool(spec.extra.get("deploy_verify"))))
