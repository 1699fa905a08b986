"""Reading a BOOTSEL Pico's flash id from `picotool info -d`, the identity its USB serial cannot give."""
from __future__ import annotations

from hil.bench.bootsel_identity import PicotoolFlashIdReader, flash_id_argv, parse_flash_id
from hil.bench.usb_discovery import UsbDevice
from tests.physical_bench.usb_fakes import BOOTSEL_SERIAL, PICO_B

# `picotool info -d --bus 1 --address 9` of an RP2040 in BOOTSEL, as picotool 2.1.1 lays it out: group title,
# then info_pair() lines; the flash id is hex_string(id, 16, prefix, uppercase) = "0x" + 16 upper-case digits.
# Derived from picotool's main.cpp (info command), not captured from a device.
PICOTOOL_2_1_1_INFO_D = """Device Information
 type:                   RP2040
 revision:               B2
 flash size:             2048K
 flash id:               0xE6614C311B4A6B2B
"""
DEVICE = UsbDevice(0x2E8A, 0x0003, BOOTSEL_SERIAL, "1-1.2", "RP2 Boot", busnum=1, devnum=9)


def test_flash_id_is_read_from_device_information():
    assert parse_flash_id(PICOTOOL_2_1_1_INFO_D) == PICO_B
    assert parse_flash_id("Program Information\n none\n") is None


def test_the_device_is_selected_by_bus_and_address_not_by_its_shared_serial():
    assert flash_id_argv(DEVICE) == ["picotool", "info", "-d", "--bus", "1", "--address", "9"]


def test_without_picotool_the_identity_stays_unknown(tmp_path):
    reader = PicotoolFlashIdReader(env={"PATH": str(tmp_path)})
    assert reader(DEVICE) is None
    assert "picotool" in reader.problem
