"""The board process with Rust images (hil/sim/node/pico_board.mjs), driven as the supervisor drives it."""
from __future__ import annotations

import time

import pytest

from hil.errors import DeadlineExpired
from tests.sim_rust import thumb_image

BOOT_TIMEOUT_S = 10.0
HALT_TIMEOUT_S = 10.0
HALT_WITHIN_VIRTUAL_NS = 100_000_000  # a halt is reported within 100 ms of the emulator's time
SILENCE_S = 1.0


def test_a_blank_board_waits_in_bootsel_with_nothing_in_flash(board):
    status = board.request("status")
    assert status["ok"] is True
    assert status["state"] == "bootsel"
    assert status["image"] is None
    assert status["clock_domain"] == "rp2040js-virtual"


def test_a_loaded_elf_starts_at_its_vector_table_after_boot2_and_serves_uart0(board, images):
    paths = images.write("echo", thumb_image.echo_firmware(), with_boot2=True)
    loaded = board.request("load", path=str(paths["elf"]))
    assert loaded["ok"] is True
    assert loaded["image"]["has_boot2"] is True
    assert loaded["image"]["vtor"] == thumb_image.FLASH_BASE + thumb_image.BOOT2_SIZE_BYTES
    assert board.request("status")["state"] == "bootsel"  # load does not start the image

    assert board.request("reset")["state"] == "running"
    board.expect("uart", rb"READY echo\n", BOOT_TIMEOUT_S)
    board.send("uart", b"ping 42\n")
    board.expect("uart", rb"ping 42\n", BOOT_TIMEOUT_S)


def test_an_image_without_boot2_starts_at_the_start_of_flash(board, images):
    paths = images.write("echo", thumb_image.echo_firmware(), with_boot2=False)
    loaded = board.request("load", path=str(paths["bin"]))
    assert loaded["image"]["has_boot2"] is False
    assert loaded["image"]["vtor"] == thumb_image.FLASH_BASE
    board.request("run")
    board.expect("uart", rb"READY echo\n", BOOT_TIMEOUT_S)


@pytest.mark.parametrize("kind", ["elf", "uf2", "bin"])
def test_elf_uf2_and_bin_of_one_image_program_the_same_flash(board, images, kind):
    paths = images.write("echo", thumb_image.echo_firmware())
    reference = board.request("load", path=str(paths["elf"]))["image"]["flash_sha256"]
    loaded = board.request("load", path=str(paths[kind]))["image"]
    assert loaded["format"] == kind
    assert loaded["flash_sha256"] == reference


def test_an_image_with_no_vector_table_is_refused_and_flash_is_kept(board, images, tmp_path):
    paths = images.write("echo", thumb_image.echo_firmware())
    board.request("load", path=str(paths["elf"]))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    refused = board.request("load", path=str(garbage))
    assert refused["ok"] is False
    assert "vector table" in refused["error"]
    board.request("reset")
    board.expect("uart", rb"READY echo\n", BOOT_TIMEOUT_S)


def test_virtual_time_advances_while_the_firmware_runs(board, images):
    board.request("load", path=str(images.write("spin", thumb_image.silent_spin_firmware())["elf"]))
    board.request("run")
    first = board.request("status")["virtual_time_ns"]
    time.sleep(0.3)
    later = board.request("status")
    assert later["virtual_time_ns"] > first
    assert later["instructions"] > 0
    assert later["emulated_mips"] > 0


@pytest.mark.parametrize("program, reason, message", [
    (thumb_image.panic_udf_firmware("explicit at src/main.rs:7"), "udf", "PANIC explicit at src/main.rs:7"),
    (thumb_image.panic_loop_firmware("index out of bounds at src/main.rs:9"), "panic-loop",
     "PANIC index out of bounds at src/main.rs:9"),
    (thumb_image.bkpt_firmware(), "bkpt", "bkpt #1"),
    (thumb_image.bus_fault_firmware(), "hardfault", "bus fault"),
], ids=["udf", "panic-loop", "bkpt", "hardfault"])
def test_a_stopped_core_is_reported_as_a_halt_with_reason_pc_and_message(board, images, program, reason, message):
    board.request("load", path=str(images.write("halting", program)["elf"]))
    board.request("reset")
    event = board.wait_event("halt", HALT_TIMEOUT_S)
    assert event["reason"] == reason
    assert message in event["message"]
    assert thumb_image.FLASH_BASE <= event["pc"] < thumb_image.FLASH_BASE + 0x1000
    status = board.request("status")
    assert status["state"] == "halted"
    assert status["halt"]["reason"] == reason
    assert status["halt"]["pc"] == event["pc"]
    assert status["halt"]["virtual_time_ns"] < HALT_WITHIN_VIRTUAL_NS


def test_a_fault_inside_the_nmi_handler_is_a_lockup(board, images):
    board.request("load", path=str(images.write("lockup", thumb_image.lockup_firmware(), nmi_label="nmi")["elf"]))
    board.request("reset")
    event = board.wait_event("halt", HALT_TIMEOUT_S)
    assert event["reason"] == "lockup"
    assert "NMI" in event["message"]


def test_reset_after_a_halt_reloads_and_restarts_the_image(board, images):
    board.request("load", path=str(images.write("panic", thumb_image.panic_udf_firmware("boom"))["elf"]))
    board.request("reset")
    board.wait_event("halt", HALT_TIMEOUT_S)
    board.request("reset")
    assert board.wait_event("usb-reconnect", HALT_TIMEOUT_S) == {"event": "usb-reconnect"}
    board.wait_event("halt", HALT_TIMEOUT_S)
    board.expect("uart", rb"PANIC boom\n(.|\n)*PANIC boom\n", BOOT_TIMEOUT_S)
    assert board.request("status")["resets"] == 2


def test_a_system_reset_request_from_the_firmware_restarts_the_image(board, images):
    board.request("load", path=str(images.write("sysreset", thumb_image.system_reset_firmware())["elf"]))
    board.request("run")
    board.expect("uart", rb"booted\nbooted\n", BOOT_TIMEOUT_S)
    board.wait_event("usb-reconnect", BOOT_TIMEOUT_S)
    assert board.request("status")["resets"] >= 2


def test_core1_starts_through_the_bootrom_fifo_handshake_and_runs_alongside_core0(board, images):
    assert board.request("load", path=str(images.write("dual", thumb_image.core1_launch_firmware())["elf"]))["ok"]
    board.request("run")
    board.expect("uart", rb"core0\ncore1\n", BOOT_TIMEOUT_S)
    status = board.request("status")
    assert status["core1_running"] is True
    assert status["state"] == "running"


def test_a_firmware_that_spins_silently_stays_running_and_the_board_stays_controllable(board, images):
    board.request("load", path=str(images.write("spin", thumb_image.silent_spin_firmware())["elf"]))
    board.request("run")
    board.send("uart", b"id\n")
    with pytest.raises(DeadlineExpired):
        board.expect("uart", rb".", SILENCE_S)  # unresponsive: nothing comes back by the deadline
    started = time.monotonic()
    status = board.request("status", timeout_s=2.0)
    assert time.monotonic() - started < 2.0
    assert status["state"] == "running"
    assert status["halt"] is None
    assert board.request("bootsel", timeout_s=2.0)["state"] == "bootsel"


def test_the_flash_image_survives_a_restart_of_the_board_process(start_board, images):
    first = start_board("rust0")
    first.request("load", path=str(images.write("echo", thumb_image.echo_firmware())["uf2"]))
    assert first.close() == 0
    second = start_board("rust0")
    assert second.request("status")["state"] == "running"
    second.expect("uart", rb"READY echo\n", BOOT_TIMEOUT_S)


def test_the_board_process_exits_when_its_stdin_closes(board, images):
    board.request("load", path=str(images.write("spin", thumb_image.silent_spin_firmware())["elf"]))
    board.request("run")
    assert board.close(timeout_s=5.0) == 0


def test_with_usb_link_uart0_the_usb_link_carries_uart0_both_ways(start_board, images):
    board = start_board("rust0", {"usb_link": "uart0"})
    board.request("load", path=str(images.write("echo", thumb_image.echo_firmware())["elf"]))
    board.request("run")
    board.expect("usb", rb"READY echo\n", BOOT_TIMEOUT_S)
    board.send("usb", b"over usb\n")
    board.expect("usb", rb"over usb\n", BOOT_TIMEOUT_S)
    board.expect("uart", rb"over usb\n", BOOT_TIMEOUT_S)
