"""Parsing probe-rs and picotool output. Samples follow the tools' own format strings:
probe-rs `DebugProbeInfo`'s Display ("{identifier} -- {vid:04x}:{pid:04x}[-{interface}]:{serial} ({factory})"),
the `list` command's header and " (inaccessible)" marker, clap's `--version` with the long version
"{version} (git commit: {rev})", probe-rs's "Finished in {:.02}s"; picotool's version_command,
progress_bar ("{prefix}[{=…}{ …}]  {percent}%\\r"), its info group printer and "ERROR: " failures."""
from __future__ import annotations

from hil.deploy.tool_output import (
    PROBLEM_NO_BOOTSEL_DEVICE, PROBLEM_NO_PROBE, PROBLEM_PERMISSION, PROBLEM_SEVERAL_DEVICES,
    PROBLEM_TARGET_UNREACHABLE, PROBLEM_VERIFY_FAILED, Progress, classify_problem, error_message,
    parse_picotool_info, parse_picotool_version, parse_probe_rs_finished_s, parse_probe_rs_list,
    parse_probe_rs_version, parse_progress,
)

PROBE_RS_LIST = """\
The following debug probes were found:
[0]: Debug Probe (CMSIS-DAP) -- 2e8a:000c:E6633861A3978538 (CMSIS-DAP)
[1]: STLink V3 -- 0483:374e:0030003C3431511237393330 (ST-LINK)
[2]: Dual RS232-HS -- 0403:6010-1:FT4ZQ2 (FTDI)
[3]: Debug Probe (CMSIS-DAP) -- 2e8a:000c:E66138935F4D4B2C (CMSIS-DAP) (inaccessible)
"""


def test_probe_rs_list_gives_each_probe_with_its_selector():
    probes = parse_probe_rs_list(PROBE_RS_LIST)
    assert [p.index for p in probes] == [0, 1, 2, 3]
    debug_probe = probes[0]
    assert debug_probe.name == "Debug Probe (CMSIS-DAP)"
    assert (debug_probe.vid, debug_probe.pid) == (0x2E8A, 0x000C)
    assert debug_probe.serial_number == "E6633861A3978538"
    assert debug_probe.probe_type == "CMSIS-DAP"
    assert debug_probe.selector == "2e8a:000c:E6633861A3978538"
    assert not debug_probe.inaccessible


def test_probe_rs_list_reads_interface_numbers_and_the_inaccessible_marker():
    probes = parse_probe_rs_list(PROBE_RS_LIST)
    assert probes[2].interface == 1 and probes[2].serial_number == "FT4ZQ2" and probes[2].probe_type == "FTDI"
    assert probes[3].inaccessible and probes[3].serial_number == "E66138935F4D4B2C"


def test_probe_rs_list_with_no_probes_is_empty_and_ignores_setup_hints():
    text = ("No debug probes were found.\n"
            "Linux: make sure the udev rules are installed: https://probe.rs/docs/getting-started/probe-setup/\n")
    assert parse_probe_rs_list(text) == []


def test_probe_rs_version_long_and_short_forms():
    assert parse_probe_rs_version("probe-rs 0.30.0 (git commit: v0.30.0-12-gabcdef1)\n") == "0.30.0"
    assert parse_probe_rs_version("probe-rs 0.24.0\n") == "0.24.0"
    assert parse_probe_rs_version("picotool v2.1.1 (Linux, GNU-12.2.0, Release)") is None


def test_picotool_version_line():
    assert parse_picotool_version("picotool v2.1.1 (Linux, GNU-12.2.0, Release)\n") == "2.1.1"
    assert parse_picotool_version("picotool v2.2.0-a4 (Darwin, AppleClang-15.0.0, Release)\n") == "2.2.0-a4"
    assert parse_picotool_version("probe-rs 0.30.0") is None


PICOTOOL_INFO_ALL = """\
Program Information
 name:            lesson
 version:         0.3.1
 features:        USB stdin / stdout
                  UART stdin / stdout
 binary start:    0x10000000
 binary end:      0x1000a934

Fixed Pin Information
 0:               UART0 TX
 1:               UART0 RX

Build Information
 sdk version:     1.5.1
 build date:      Nov 24 2026

Device Information
 type:            RP2040
 revision:        B2
 flash size:      2048K
 flash id:        0xE66138935F4D4B2C
"""


def test_picotool_info_groups_keys_and_continuation_lines():
    info = parse_picotool_info(PICOTOOL_INFO_ALL)
    assert info["Program Information"]["name"] == "lesson"
    assert info["Program Information"]["features"] == "USB stdin / stdout\nUART stdin / stdout"
    assert info["Program Information"]["binary end"] == "0x1000a934"
    assert info["Fixed Pin Information"]["1"] == "UART0 RX"
    assert info["Device Information"] == {"type": "RP2040", "revision": "B2", "flash size": "2048K",
                                          "flash id": "0xE66138935F4D4B2C"}


def test_picotool_progress_redrawn_with_carriage_returns_gives_every_step():
    line = ("Loading into Flash:   [                              ]  0%\r"
            "Loading into Flash:   [===============               ]  50%\r"
            "Loading into Flash:   [==============================]  100%")
    assert parse_progress(line) == [Progress("Loading into Flash", 0), Progress("Loading into Flash", 50),
                                    Progress("Loading into Flash", 100)]
    assert parse_progress("Verifying Flash:      [=====                         ]  17%") == [
        Progress("Verifying Flash", 17)]


def test_probe_rs_progress_and_finish_line():
    assert parse_progress("      Erasing ✔ 100% [####################]  48.00 KiB @  46.30 KiB/s (took 1s)") == [
        Progress("Erasing", 100)]
    assert parse_progress("  Programming ⠁  37% [#######-------------]  16.00 KiB @  29.20 KiB/s (ETA 1s)") == [
        Progress("Programming", 37)]
    assert parse_progress("     \x1b[1;32mFinished\x1b[0m in 0.74s") == [Progress("Finished", 100)]
    assert parse_probe_rs_finished_s("     Finished in 0.74s\n") == 0.74
    assert parse_progress("Tracking device serial number E66138935F4D4B2C for reboot") == []


def test_known_probe_rs_failures_are_recognised():
    no_probe = ("Error: Failed to open the debug probe.\n\nCaused by:\n    0: The debug probe could not be created.\n"
                "    1: The selected debug probe was not found. This can be due to permissions.\n")
    assert classify_problem(no_probe) == PROBLEM_NO_PROBE
    assert error_message(no_probe) == "Failed to open the debug probe."
    assert classify_problem("Error: No connected probes were found.\n") == PROBLEM_NO_PROBE
    unreachable = ("Error: Connecting to the chip was unsuccessful.\n\nCaused by:\n    0: An ARM specific error "
                   "occurred.\n    1: Failed to find or attach to the target. Please check the wiring before "
                   "retrying.\n")
    assert classify_problem(unreachable) == PROBLEM_TARGET_UNREACHABLE
    assert classify_problem("Error: 2 probes were found: ...") == PROBLEM_SEVERAL_DEVICES


def test_known_picotool_failures_are_recognised():
    no_device = ("No accessible RP-series devices in BOOTSEL mode were found with serial number E66138935F4D4B2C.\n"
                 "\nbut:\n\nRP2040 device at bus 1, address 7 appears to have a USB serial connection, so consider "
                 "-f (or -F) to force reboot in order to run the command.\n")
    assert classify_problem(no_device) == PROBLEM_NO_BOOTSEL_DEVICE
    retry = ("Despite the reboot attempt, no accessible RP-series devices in BOOTSEL mode were found. It is "
             "possible the device is not responding, and will have to be manually entered into BOOTSEL mode.\n")
    assert classify_problem(retry) == PROBLEM_NO_BOOTSEL_DEVICE
    assert classify_problem("ERROR: The device contents did not match the file\n") == PROBLEM_VERIFY_FAILED
    assert error_message("Loading into Flash: [===]  100%\nERROR: The device contents did not match the file\n") \
        == "The device contents did not match the file"
    permission = ("No accessible RP-series devices in BOOTSEL mode were found.\n\nbut:\n\nRP2040 device at bus 1, "
                  "address 9 appears to be in BOOTSEL mode, but picotool was unable to connect. Maybe try 'sudo' "
                  "or check your permissions.\n")
    assert classify_problem(permission) == PROBLEM_PERMISSION
    assert classify_problem("ERROR: Command requires a single RP-series device to be targeted.") == \
        PROBLEM_SEVERAL_DEVICES


def test_unknown_output_is_not_classified():
    assert classify_problem("Error: something nobody anticipated\n") is None
    assert error_message("first\nlast line\n") == "last line"
