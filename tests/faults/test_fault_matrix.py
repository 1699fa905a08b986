"""The fault matrix: each fault a bench can throw at a run surfaces as a specific error, with a message naming the
board, port or tool and what happened, within its deadline plus one second. The board is then either usable again
(after a reset or Ctrl-C) or marked broken, so that later uses fail fast with the first reason.

These drive the framework's real RustBoard / MicroPythonBoard / SerialTransport / ProbeRsFlasher code against
pretend Picos on real pseudo-terminals (tests/faults/pretend_pico.py) and fake flashing tools.
"""
from __future__ import annotations

import pytest

from hil.board.board import ProvisionArtifacts
from hil.errors import (BoardBroken, BoardHalted, GarbledSerial, PortVanished, ProvisionError, StepTimeout,
                        ToolFailed, ToolMissing, ToolTimeout, WrongRuntime)
from tests.faults.pretend_pico import (DEAF_TO_CTRL_C, GARBAGE, HANG_CODE, HANG_COMMAND, NEW_BUILD_ID, PANIC_AT_BOOT,
                                       PANIC_MESSAGE, PANIC_PC, REBOOT_LOOP, SILENT, VANISH_AND_RETURN,
                                       VANISH_FOREVER)

RUST = {"pico-r": "rust"}
MICROPYTHON = {"pico-m": "micropython"}
COMMAND_TIMEOUT_S = 1.0
RESET_TIMEOUT_S = 4.0
PROVISION_TIMEOUT_S = 4.0
DEADLINE_FAST_S = 0.5   # "fails fast": a broken board is refused without touching the hardware


# -- the board does not answer ---------------------------------------------------------------------------------

def test_a_silent_rust_board_fails_the_command_with_step_timeout_naming_board_and_log(fault_bench, board_on,
                                                                                       stopwatch):
    board = board_on(fault_bench(RUST, {"pico-r": SILENT}), "pico-r")
    clock = stopwatch()
    with pytest.raises(StepTimeout) as caught:
        board.command("ping", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    message = str(caught.value)
    assert "board 'pico-r'" in message and "not seen within 1 s" in message
    assert "(nothing)" in message and f"full log: {board.log.path}" in message


def test_a_silent_micropython_board_is_reported_as_having_no_repl(fault_bench, board_on, stopwatch):
    board = board_on(fault_bench(MICROPYTHON, {"pico-m": SILENT}), "pico-m")
    clock = stopwatch()
    with pytest.raises(WrongRuntime) as caught:
        board.enter_raw_repl(COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    assert "board 'pico-m': expected a MicroPython REPL" in str(caught.value)
    assert "received: 'nothing'" in str(caught.value)


def test_rust_firmware_stuck_in_an_endless_loop_times_out_and_a_reset_brings_it_back(fault_bench, board_on,
                                                                                     stopwatch):
    board = board_on(fault_bench(RUST), "pico-r")
    assert board.command("ping", COMMAND_TIMEOUT_S)   # healthy until the firmware enters its endless loop
    board.transport.write(HANG_COMMAND + "\n")
    clock = stopwatch()
    with pytest.raises(StepTimeout, match="board 'pico-r'"):
        board.command("ping", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)

    board.reset(RESET_TIMEOUT_S)   # through the fake probe-rs, as on a bench with a debug probe
    assert board.command("ping", COMMAND_TIMEOUT_S).group(0).strip() == "OK pong"


def test_micropython_code_in_an_endless_loop_times_out_and_ctrl_c_gives_the_repl_back(fault_bench, board_on,
                                                                                      stopwatch):
    board = board_on(fault_bench(MICROPYTHON), "pico-m")
    clock = stopwatch()
    with pytest.raises(StepTimeout, match="board 'pico-m'"):
        board.exec(f"{HANG_CODE}\n    pass", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    assert board.is_responsive(COMMAND_TIMEOUT_S)


def test_micropython_code_that_ctrl_c_cannot_stop_still_times_out_within_the_deadline(fault_bench, board_on,
                                                                                      stopwatch):
    board = board_on(fault_bench(MICROPYTHON, {"pico-m": DEAF_TO_CTRL_C}), "pico-m")
    clock = stopwatch()
    with pytest.raises(StepTimeout, match="board 'pico-m'"):
        board.exec(f"{HANG_CODE}\n    pass", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    clock = stopwatch()
    assert not board.is_responsive(COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    with pytest.raises(WrongRuntime, match="no raw REPL answer"):   # what marks it broken in a run
        board.enter_raw_repl(COMMAND_TIMEOUT_S)


# -- the serial link misbehaves ---------------------------------------------------------------------------------

def test_garbage_on_the_link_is_reported_as_garbled_serial_not_as_a_plain_timeout(fault_bench, board_on, stopwatch):
    board = board_on(fault_bench(RUST, {"pico-r": GARBAGE}), "pico-r")
    clock = stopwatch()
    with pytest.raises(GarbledSerial) as caught:
        board.command("ping", COMMAND_TIMEOUT_S)
    clock.assert_within(COMMAND_TIMEOUT_S)
    message = str(caught.value)
    assert "board 'pico-r'" in message and "wrong baud rate or noise" in message
    assert f"full log: {board.log.path}" in message


def test_a_port_that_vanishes_mid_step_and_comes_back_is_reopened_and_the_step_completes(fault_bench, board_on,
                                                                                         stopwatch):
    bench = fault_bench(RUST, {"pico-r": VANISH_AND_RETURN})
    board = board_on(bench, "pico-r")
    board.open()
    timeout_s = 3.0
    clock = stopwatch()
    assert board.command("ping", timeout_s).group(0).strip() == "OK pong"
    clock.assert_within(timeout_s)
    assert board.transport.reconnects == 1
    # The loss shows in the serial log (noticed by the read or, if it came first, by the write).
    log = board.log.path.read_text()
    assert ("port lost" in log or "write failed" in log) and log.count(f"-- opened {bench.spec('pico-r').port}") == 2


def test_a_port_that_vanishes_for_good_fails_with_port_vanished_naming_port_and_board(fault_bench, board_on,
                                                                                     stopwatch):
    bench = fault_bench(RUST, {"pico-r": VANISH_FOREVER})
    board = board_on(bench, "pico-r")
    timeout_s = 1.5
    clock = stopwatch()
    with pytest.raises(PortVanished) as caught:
        board.command("ping", timeout_s)
    clock.assert_within(timeout_s)
    message = str(caught.value)
    assert f"board 'pico-r' serial port {bench.spec('pico-r').port} disappeared" in message
    assert "did not come back" in message


# -- the firmware cannot start --------------------------------------------------------------------------------

def test_a_reboot_loop_fails_the_reset_saying_the_port_kept_going_away(fault_bench, board_on, stopwatch):
    bench = fault_bench(RUST)
    board = board_on(bench, "pico-r")
    bench.picos["pico-r"].behaviour = REBOOT_LOOP
    clock = stopwatch()
    with pytest.raises(ProvisionError) as caught:
        board.reset(RESET_TIMEOUT_S)
    clock.assert_within(RESET_TIMEOUT_S)
    message = str(caught.value)
    assert "board 'pico-r': firmware did not answer within" in message
    assert "a reset loop?" in message


def test_a_panic_at_boot_is_reported_as_board_halted_with_the_panic_and_pc(fault_bench, board_on, stopwatch):
    bench = fault_bench(RUST)
    board = board_on(bench, "pico-r")
    bench.picos["pico-r"].behaviour = PANIC_AT_BOOT
    clock = stopwatch()
    with pytest.raises(BoardHalted) as caught:
        board.reset(RESET_TIMEOUT_S)
    clock.assert_within(RESET_TIMEOUT_S)
    assert str(caught.value) == f"board 'pico-r' halted (panic) at PC 0x{PANIC_PC:08x}: {PANIC_MESSAGE}"
    assert board.state == "halted"


# -- the provisioning tool ------------------------------------------------------------------------------------

def test_a_missing_flashing_tool_fails_with_tool_missing_and_the_board_then_fails_fast(fault_bench, board_on,
                                                                                      new_firmware, stopwatch):
    board = board_on(fault_bench(RUST, missing_tools=("probe-rs",)), "pico-r")
    clock = stopwatch()
    with pytest.raises(ToolMissing) as caught:
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    clock.assert_within(PROVISION_TIMEOUT_S)
    assert str(caught.value).startswith("probe-rs: not found on PATH (install: https://probe.rs/")

    clock = stopwatch()
    with pytest.raises(BoardBroken) as broken:
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    assert clock.elapsed_s < DEADLINE_FAST_S
    assert "board 'pico-r' is marked broken" in str(broken.value)
    assert "provisioning failed: ToolMissing: probe-rs: not found on PATH" in str(broken.value)


def test_a_failing_flashing_tool_fails_with_its_error_and_the_board_then_fails_fast(fault_bench, board_on,
                                                                                    new_firmware, stopwatch):
    bench = fault_bench(RUST)
    bench.set_tool_mode("probe-rs download", "fail")
    board = board_on(bench, "pico-r")
    clock = stopwatch()
    with pytest.raises((ProvisionError, ToolFailed)) as caught:
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    clock.assert_within(PROVISION_TIMEOUT_S)
    message = str(caught.value)
    assert "board 'pico-r': probe-rs:" in message and "does not answer on SWD" in message
    assert "Connecting to the chip was unsuccessful" in message
    with pytest.raises(BoardBroken, match="provisioning failed"):
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)


def test_a_hanging_flashing_tool_is_killed_at_its_deadline_with_tool_timeout(fault_bench, board_on, new_firmware,
                                                                            stopwatch):
    bench = fault_bench(RUST)
    bench.set_tool_mode("probe-rs download", "hang")
    board = board_on(bench, "pico-r")
    clock = stopwatch()
    with pytest.raises(ToolTimeout) as caught:
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    clock.assert_within(PROVISION_TIMEOUT_S)
    message = str(caught.value)
    assert message.startswith("probe-rs download --chip RP2040 --probe 2e8a:000c:PROBE-pico-r")
    assert "did not finish within" in message and "was killed" in message
    with pytest.raises(BoardBroken, match="provisioning failed: ToolTimeout"):
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)


def test_a_flashing_tool_that_hangs_even_on_version_is_killed_within_the_provision_deadline(fault_bench, board_on,
                                                                                           new_firmware, stopwatch):
    bench = fault_bench(RUST)
    for subcommand in ("--version", "download", "reset"):
        bench.set_tool_mode(f"probe-rs {subcommand}", "hang")
    board = board_on(bench, "pico-r")
    clock = stopwatch()
    with pytest.raises(ToolTimeout):
        board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    clock.assert_within(PROVISION_TIMEOUT_S)


def test_a_working_flash_after_the_faults_reports_the_new_build(fault_bench, board_on, new_firmware):
    """The control case: the same bench and tools, with nothing wrong, flash and answer with the new build id."""
    board = board_on(fault_bench(RUST), "pico-r")
    report = board.provision(ProvisionArtifacts(firmware=new_firmware), PROVISION_TIMEOUT_S)
    assert report.flashed and report.build_id_after == NEW_BUILD_ID
    assert board.state == "ready"

