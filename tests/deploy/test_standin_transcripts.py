"""The stand-ins print what the real tools print. Each expected text below is a transcript of the real tool,
derived from its source (not captured from hardware): probe-rs 0.32.0 (probe-rs/src/probe.rs DebugProbeInfo's
Display; probe-rs-tools cmd/list.rs; util/common_options.rs OperationError; util/cli.rs MultipleProbesFound) and
picotool 2.1.1 (main.cpp: the "no accessible devices" message and `info` device group, hex_string for the flash
id). The framework's parsers read them the same way from either."""
from __future__ import annotations

import pytest

from hil.deploy.tool_output import (
    PROBLEM_NO_BOOTSEL_DEVICE, PROBLEM_NO_PROBE, PROBLEM_SEVERAL_DEVICES, classify_problem, parse_probe_rs_list,
    parse_probe_rs_version, parse_picotool_version,
)
from hil.deploy.tool_versions import check_version
from hil.sim.standins import picotool_standin, probe_rs_standin
from hil.sim.standins.probe_rs_standin import ProbeRsError, listing_line, select_probe

SERIAL_A, SERIAL_B = "E6633861A3978538", "E6633861A3978539"
BOARD_A = {"id": "sim-rust-0", "probe": f"2e8a:000c:{SERIAL_A}"}
BOARD_B = {"id": "sim-rust-1", "probe": f"2e8a:000c:{SERIAL_B}"}

# probe-rs 0.32.0 `probe-rs list` with one Raspberry Pi Debug Probe (CMSIS-DAP v2 on interface 0)
PROBE_RS_LIST = ("The following debug probes were found:\n"
                 f"[0]: Debug Probe (CMSIS-DAP) -- 2e8a:000c-0:{SERIAL_A} (CMSIS-DAP)\n")
# probe-rs 0.32.0 `probe-rs download --non-interactive ...` with two probes and no --probe (stderr, exit 1)
PROBE_RS_SEVERAL = ("Error: The following devices were found:\n"
                    f"[0]: Debug Probe (CMSIS-DAP) -- 2e8a:000c-0:{SERIAL_A} (CMSIS-DAP)\n"
                    f"[1]: Debug Probe (CMSIS-DAP) -- 2e8a:000c-0:{SERIAL_B} (CMSIS-DAP)\n\n"
                    "Use '--probe VID:PID' or '--probe VID:PID:Serial' to select one.")
# probe-rs 0.32.0 with no probe attached, or none matching --probe (stderr, exit 1)
PROBE_RS_NONE = "Error: No connected probes were found."
# picotool 2.1.1 `picotool load --ser E66138935F4D4B2C x.uf2` with no such device in BOOTSEL (stdout, exit 249)
PICOTOOL_NO_DEVICE_SER = "No accessible RP-series devices in BOOTSEL mode were found with serial number " \
                         "E66138935F4D4B2C."
PICOTOOL_NO_DEVICE = "No accessible RP-series devices in BOOTSEL mode were found."


def test_probe_rs_list_line_has_the_interface_suffix():
    assert "The following debug probes were found:\n" + f"[0]: {listing_line(BOARD_A)}\n" == PROBE_RS_LIST
    (probe,) = parse_probe_rs_list(PROBE_RS_LIST)
    assert (probe.interface, probe.serial_number, probe.selector) == (0, SERIAL_A, f"2e8a:000c:{SERIAL_A}")


def test_probe_rs_several_probes_without_selection_is_the_real_error():
    with pytest.raises(ProbeRsError) as raised:
        select_probe([BOARD_A, BOARD_B], None)
    assert f"Error: {raised.value}" == PROBE_RS_SEVERAL
    assert classify_problem(PROBE_RS_SEVERAL) == PROBLEM_SEVERAL_DEVICES


@pytest.mark.parametrize("probes, selector", [([], None), ([BOARD_A], "2e8a:000c:NOSUCHPROBE"),
                                              ([BOARD_A], "2e8a:000d")])
def test_probe_rs_missing_probe_is_the_real_error(probes, selector):
    with pytest.raises(ProbeRsError) as raised:
        select_probe(probes, selector)
    assert f"Error: {raised.value}" == PROBE_RS_NONE
    assert classify_problem(PROBE_RS_NONE) == PROBLEM_NO_PROBE


def test_probe_rs_selector_with_or_without_serial_picks_the_probe():
    assert select_probe([BOARD_A, BOARD_B], f"2e8a:000c:{SERIAL_B}") is BOARD_B
    assert select_probe([BOARD_A], "2e8a:000c") is BOARD_A


def test_picotool_no_device_messages_name_the_selection():
    assert picotool_standin.no_device_message("E66138935F4D4B2C") == PICOTOOL_NO_DEVICE_SER
    assert picotool_standin.no_device_message(None) == PICOTOOL_NO_DEVICE
    assert classify_problem(PICOTOOL_NO_DEVICE_SER) == PROBLEM_NO_BOOTSEL_DEVICE


def test_stand_in_versions_read_as_the_release_they_follow_and_pass_the_check(monkeypatch):
    monkeypatch.delenv(picotool_standin.VERSION_ENV, raising=False)
    monkeypatch.delenv(probe_rs_standin.VERSION_ENV, raising=False)
    assert parse_picotool_version(picotool_standin.version_line()) == "2.1.1"
    assert parse_probe_rs_version(probe_rs_standin.version_line()) == "0.32.0"
    check_version("picotool", picotool_standin.version_line())
    check_version("probe-rs", probe_rs_standin.version_line())
    monkeypatch.setenv(picotool_standin.VERSION_ENV, "1.1.2")
    assert picotool_standin.version_line().startswith("picotool v1.1.2 ")
