"""PicotoolFlasher: load when in BOOTSEL, reboot into BOOTSEL when not, and a specific error otherwise."""
from __future__ import annotations

import time

import pytest

from hil.deploy.flash_failed import FlashFailed
from hil.deploy.picotool_flasher import PicotoolFlasher
from hil.deploy.tool_output import PROBLEM_NO_BOOTSEL_DEVICE, PROBLEM_VERIFY_FAILED
from hil.errors import ProvisionError, ToolTimeout, ToolTooOld

SERIAL = "E66138935F4D4B2C"
VERSION = {"stdout": "picotool v2.1.1 (Linux, GNU-12.2.0, Release)\n"}
LOADED = {"stdout": "Loading into Flash:   [==============================]  100%\n"
                    "Verifying Flash:      [==============================]  100%\n  OK\n\n"
                    "The device was rebooted to start the application.\n"}
NOT_IN_BOOTSEL = {"stdout": f"No accessible RP-series devices in BOOTSEL mode were found with serial number "
                            f"{SERIAL}.\n", "rc": 0xF9}   # ERROR_NO_DEVICE (-7) as an exit status


def test_argv_follow_picotools_interface():
    flasher = PicotoolFlasher("rust", SERIAL)
    assert flasher.load_argv("/fw/lesson.elf") == ["picotool", "load", "-v", "-x", "--ser", SERIAL, "/fw/lesson.elf"]
    assert flasher.reboot_to_bootsel_argv() == ["picotool", "reboot", "-u", "-f", "--ser", SERIAL]
    assert PicotoolFlasher("rust").load_argv("a.uf2") == ["picotool", "load", "-v", "-x", "a.uf2"]


def test_a_board_in_bootsel_is_loaded_in_one_step(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool version", VERSION).on("picotool load", LOADED)
    seen = []
    report = PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 20, progress=seen.append)
    assert [c[1] for c in fake_tools.calls()] == ["version", "load"]
    assert report.verified and report.reset_done
    assert report.tool_versions == {"picotool": "picotool v2.1.1 (Linux, GNU-12.2.0, Release)"}
    assert ("Loading into Flash", 100) in [(p.phase, p.percent) for p in seen]
    assert ("Verifying Flash", 100) in [(p.phase, p.percent) for p in seen]


def test_picotool_older_than_2_is_refused_before_it_touches_the_board(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool version", {"stdout": "picotool v1.1.2 (Linux, GNU-10.2.1, Release)\n"}) \
        .on("picotool load", LOADED)
    with pytest.raises(ToolTooOld, match=r"found version 1\.1\.2, version 2\.0\.0 or newer is needed"):
        PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 20)
    assert [c[1] for c in fake_tools.calls()] == ["version"]


def test_a_running_board_is_rebooted_into_bootsel_then_loaded(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool version", VERSION) \
        .on("picotool load", NOT_IN_BOOTSEL, NOT_IN_BOOTSEL, LOADED).on("picotool reboot", {})
    report = PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 20)
    assert [c[1] for c in fake_tools.calls()] == ["version", "load", "reboot", "load", "load"]
    assert fake_tools.calls()[2] == ["picotool", "reboot", "-u", "-f", "--ser", SERIAL]
    assert any("reboot -u -f" in step for step in report.steps)


def test_no_bootsel_device_after_a_reboot_is_a_clear_error_within_the_deadline(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool load", NOT_IN_BOOTSEL).on("picotool reboot", {})
    started = time.monotonic()
    with pytest.raises(ProvisionError, match="no BOOTSEL device with serial E66138935F4D4B2C appeared within 1 s"):
        PicotoolFlasher("rust", SERIAL, env=fake_tools.env, bootsel_appear_timeout_s=1).flash(elf_image, 20)
    assert time.monotonic() - started < 1 + 2   # the wait, plus one last picotool run


def test_firmware_without_reset_interface_and_no_port_says_how_to_enter_bootsel(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool load", NOT_IN_BOOTSEL).on("picotool reboot", {
        "stdout": f"No accessible RP-series devices in BOOTSEL mode were found with serial number {SERIAL}.\n",
        "rc": 0xF9})
    with pytest.raises(FlashFailed) as caught:
        PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 20)
    assert caught.value.problem == PROBLEM_NO_BOOTSEL_DEVICE
    assert "hold BOOTSEL" in str(caught.value)


def test_verify_failure_is_reported(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool load", {
        "stdout": "Loading into Flash: [====]  100%\nVerifying Flash: [====]  100%\n"
                  "ERROR: The device contents did not match the file\n", "rc": 0xF5})
    with pytest.raises(FlashFailed) as caught:
        PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 20)
    assert caught.value.problem == PROBLEM_VERIFY_FAILED


def test_a_hanging_picotool_is_killed(fake_tools, elf_image):
    fake_tools.install("picotool").on("picotool load", {"sleep_s": 60})
    started = time.monotonic()
    with pytest.raises(ToolTimeout):
        PicotoolFlasher("rust", SERIAL, env=fake_tools.env).flash(elf_image, 2)
    assert time.monotonic() - started < 5


def test_info_is_parsed(fake_tools):
    fake_tools.install("picotool").on("picotool info", {"stdout": "Program Information\n name:      lesson\n\n"
                                      "Device Information\n type:      RP2040\n flash id:  0xE66138935F4D4B2C\n"})
    info = PicotoolFlasher("rust", SERIAL, env=fake_tools.env).info()
    assert info["Device Information"]["type"] == "RP2040"
    assert fake_tools.calls()[0] == ["picotool", "info", "-a", "--ser", SERIAL]


def test_without_a_reset_interface_a_1200_baud_touch_sends_the_board_to_bootsel(fake_tools, elf_image):
    import os
    import tty
    master_fd, slave_fd = os.openpty()
    tty.setraw(slave_fd)
    port = os.ttyname(slave_fd)
    try:
        fake_tools.install("picotool").on("picotool load", NOT_IN_BOOTSEL, LOADED).on("picotool reboot", {
            "stdout": "No accessible RP-series devices in BOOTSEL mode were found.\n", "rc": 0xF9})
        asked = []
        flasher = PicotoolFlasher("rust", SERIAL, env=fake_tools.env,
                                  port_finder=lambda timeout_s: asked.append(timeout_s) or port)
        report = flasher.flash(elf_image, 20)
        assert f"1200-baud touch on {port}" in report.steps
        assert [c[1] for c in fake_tools.calls()] == ["version", "load", "reboot", "load"]
        assert asked and 0 < asked[0] <= 20
    finally:
        os.close(master_fd)
        os.close(slave_fd)
