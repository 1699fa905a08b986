"""`hil bench init`: the file it writes is a valid bench file describing exactly what was attached."""
from __future__ import annotations

import argparse

import pytest

from hil.bench.bench_file import load_bench_file
from hil.bench.usb_discovery import Discovery, UsbDevice, UsbSerialPort
from hil.commands import bench_init
from hil.errors import ConfigError, HilError
from tests.physical_bench.usb_fakes import BOOTSEL_SERIAL, PICO_A, PICO_B, PROBE_SERIAL, probe_listing


def usb_port(device, pid, serial, bus):
    return UsbSerialPort(device, 0x2E8A, pid, serial, f"{bus}:1.0")


def written(tmp_path, discovery: Discovery, flash_id_of=None):
    path = tmp_path / "bench.yaml"
    path.write_text(bench_init.bench_yaml(discovery, "desk", flash_id_of))
    return path, load_bench_file(path)


def test_one_pico_of_each_runtime_and_one_probe_make_a_ready_bench(tmp_path):
    discovery = Discovery(ports=[usb_port("/dev/ttyACM0", 0x0005, PICO_A, "1-1"),
                                 usb_port("/dev/ttyACM1", 0x000A, PICO_B, "1-2"),
                                 usb_port("/dev/ttyACM2", 0x000C, PROBE_SERIAL, "1-3")],
                          probes=[probe_listing()], probes_listed=True)
    path, config = written(tmp_path, discovery)
    specs = {spec.board_id: spec for spec in config.specs}
    assert config.name == "desk" and config.kind == "physical"
    assert set(specs) == {"mpy1", "rust1"}
    assert specs["mpy1"].runtime == "micropython" and specs["mpy1"].serial_number == PICO_A
    assert specs["mpy1"].flash_method == "mpremote"
    assert specs["rust1"].serial_number == PICO_B and specs["rust1"].vid_pid == "2e8a:000a"
    assert specs["rust1"].probe == f"2e8a:000c:{PROBE_SERIAL}" and specs["rust1"].flash_method == "probe-rs"
    assert "/dev/ttyACM2" not in path.read_text()   # the probe's own UART is not a board


def test_with_two_rust_boards_the_probe_is_left_for_the_user_to_assign(tmp_path):
    discovery = Discovery(ports=[usb_port("/dev/ttyACM0", 0x000A, PICO_A, "1-1"),
                                 usb_port("/dev/ttyACM1", 0x0009, PICO_B, "1-2")],
                          probes=[probe_listing()], probes_listed=True)
    path, config = written(tmp_path, discovery)
    assert [s.flash_method for s in config.specs] == ["picotool", "picotool"]
    assert f"# debug probe attached: 2e8a:000c:{PROBE_SERIAL}" in path.read_text()


def test_a_pico_in_bootsel_is_written_under_its_flash_id_and_usb_port(tmp_path):
    discovery = Discovery(usb_devices=[UsbDevice(0x2E8A, 0x0003, BOOTSEL_SERIAL, "1-4", "RP2 Boot", 1, 9)])
    path, config = written(tmp_path, discovery, flash_id_of=lambda device: PICO_B)
    assert [(s.board_id, s.runtime, s.serial_number, s.usb_port) for s in config.specs] == [
        ("rust1", "rust", PICO_B, "1-4")]
    assert BOOTSEL_SERIAL not in path.read_text()


def test_a_pico_in_bootsel_whose_flash_id_cannot_be_read_is_never_written_under_the_shared_serial(tmp_path):
    discovery = Discovery(ports=[usb_port("/dev/ttyACM0", 0x0005, PICO_A, "1-1")],
                          usb_devices=[UsbDevice(0x2E8A, 0x0003, BOOTSEL_SERIAL, "1-4", "RP2 Boot", 1, 9)])
    path, config = written(tmp_path, discovery, flash_id_of=lambda device: None)
    assert [s.serial_number for s in config.specs] == [PICO_A]
    text = path.read_text()
    assert "serial_number: \"E0C9125B0D9B\"" not in text
    assert "# a Pico in BOOTSEL at USB 1-4 reports only the boot ROM's serial E0C9125B0D9B" in text
    with pytest.raises(HilError, match="BOOTSEL at USB 1-4"):
        bench_init.bench_yaml(Discovery(usb_devices=discovery.usb_devices), "desk")


def test_a_bench_file_naming_the_shared_bootsel_serial_is_refused(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(f"boards:\n  - id: a\n    runtime: rust\n    serial_number: \"{BOOTSEL_SERIAL}\"\n"
                    "    flash: picotool\n")
    with pytest.raises(ConfigError, match=r"bench.yaml:4: boards\[0\].serial_number: E0C9125B0D9B is the serial"):
        load_bench_file(path)


def test_a_serial_number_that_looks_like_a_number_stays_text(tmp_path):
    discovery = Discovery(ports=[usb_port("/dev/ttyACM0", 0x0005, "0123456789", "1-1")])
    _, config = written(tmp_path, discovery)
    assert config.specs[0].serial_number == "0123456789"


def test_nothing_attached_is_an_error_not_an_empty_file():
    with pytest.raises(HilError, match="no Pico found on USB"):
        bench_init.bench_yaml(Discovery(ports=[UsbSerialPort("/dev/ttyS0", None, None, None)]), "desk")


def test_an_existing_file_is_not_overwritten_without_force(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        bench_init.run(argparse.Namespace(file=path, force=False, name=None))
    assert path.read_text() == "mine"
