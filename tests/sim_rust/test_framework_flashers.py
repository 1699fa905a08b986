"""The framework's own flashers (hil/deploy/), unchanged, provisioning simulated boards through the stand-ins:
the simulated bench differs from a physical one only by PATH and the board list."""
from __future__ import annotations

from hil.deploy.picotool_flasher import PicotoolFlasher
from hil.deploy.probe_rs_flasher import ProbeRsFlasher
from tests.sim_rust import thumb_image
from tests.sim_rust.serial_ask import ask

FLASH_TIMEOUT_S = 60.0
ANSWER_TIMEOUT_S = 15.0


def test_probe_rs_flasher_flashes_and_resets_a_simulated_board(sim_bench, images):
    board = sim_bench.board(0)
    flasher = ProbeRsFlasher(board["id"], board["probe"], env=sim_bench.env())
    report = flasher.flash(images.write("echo", thumb_image.echo_firmware())["elf"], FLASH_TIMEOUT_S)
    assert report.reset_done
    assert flasher.version().startswith("probe-rs 0.32.0 ")
    assert ask(sim_bench.sim_dir / f"{board['id']}.uart0", b"probe\n", rb"probe\n", ANSWER_TIMEOUT_S)


def test_picotool_flasher_gets_a_running_board_into_bootsel_and_loads_it(sim_bench, images):
    board = sim_bench.board(1)
    flasher = PicotoolFlasher(board["id"], board["serial_number"], env=sim_bench.env())
    flasher.flash(images.write("echo", thumb_image.echo_firmware())["uf2"], FLASH_TIMEOUT_S)
    assert sim_bench.status(board)["state"] == "running"
    report = flasher.flash(images.write("panic", thumb_image.panic_udf_firmware("second image"))["uf2"],
                           FLASH_TIMEOUT_S)
    assert any("reboot -u -f" in step for step in report.steps)
    assert sim_bench.wait_state(board, "halted")["halt"]["message"] == "PANIC second image"
