"""PhysicalBench: boards are matched to ports by USB serial number and every other situation is named."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hil.bench.bench_file import BenchConfig
from hil.bench.board_spec import BoardSpec
from hil.bench.physical_bench import PhysicalBench, match_board
from hil.bench.usb_discovery import UsbDiscovery
from hil.errors import BoardNotFound
from tests.physical_bench.usb_fakes import (
    BOOTSEL_SERIAL, PICO_A, PICO_B, PROBE_SERIAL, bootsel_device, debug_probe_port, unplug, micropython_port, port, probe_listing, rust_port,
    write_sysfs_device,
)

PROBE = f"2e8a:000c:{PROBE_SERIAL}"


class Attached:
    """The devices a test plugs in; changeable while the bench looks (re-enumeration)."""

    def __init__(self, sysfs_root: Path):
        self.ports: list = []
        self.sysfs_root = sysfs_root
        self.probes: list = []
        self.probe_rs_installed = True
        self.scans = 0

    def list_ports(self):
        self.scans += 1
        return list(self.ports)

    def list_probes(self, _timeout_s, _env):
        if not self.probe_rs_installed:
            from hil.errors import ToolMissing
            raise ToolMissing("probe-rs")
        return list(self.probes)

    def discovery(self) -> UsbDiscovery:
        return UsbDiscovery(env={}, list_serial_ports=self.list_ports, sysfs_root=self.sysfs_root,
                            list_probes=self.list_probes)


@pytest.fixture
def attached(tmp_path) -> Attached:
    root = tmp_path / "sys-bus-usb-devices"
    root.mkdir()
    return Attached(root)


class FlashIds:
    """What picotool would read as the flash id of the BOOTSEL device on each USB port (None: cannot read)."""

    def __init__(self, by_port: dict[str, str] | None = None):
        self.by_port = dict(by_port or {})
        self.reads: list[str] = []

    def __call__(self, device) -> str | None:
        self.reads.append(device.bus_path)
        return self.by_port.get(device.bus_path)


def bench(attached: Attached, *specs: BoardSpec, flash_ids: FlashIds | None = None) -> PhysicalBench:
    config = BenchConfig(path="bench.yaml", name="desk", kind="physical", specs=list(specs))
    return PhysicalBench(config, discovery=attached.discovery(), flash_id_reader=flash_ids or FlashIds())


MPY = BoardSpec("mpy", "micropython", serial_number=PICO_A, source="bench.yaml:3")
RUST = BoardSpec("rust", "rust", serial_number=PICO_B, probe=PROBE, flash_method="probe-rs", source="bench.yaml:7")


def test_boards_are_found_by_serial_number_and_the_probe_uart_is_never_taken(attached):
    attached.ports = [debug_probe_port("/dev/ttyACM0"), micropython_port("/dev/ttyACM1", PICO_A),
                      rust_port("/dev/ttyACM2", PICO_B)]
    attached.probes = [probe_listing()]
    the_bench = bench(attached, MPY, RUST)
    assert the_bench.locate_port(MPY, timeout_s=1) == "/dev/ttyACM1"
    assert the_bench.locate_port(RUST, timeout_s=1) == "/dev/ttyACM2"
    rows = {row.board_id: row for row in the_bench.attached()}
    assert rows["mpy"].state == "present" and rows["mpy"].vid_pid == "2e8a:0005"
    assert rows["rust"].state == "present" and rows["rust"].detail == ""
    assert the_bench.device_clock_domain("rust") == "device"


def test_a_missing_board_fails_after_the_deadline_naming_serial_and_bench_file_line(attached):
    attached.ports = [rust_port("/dev/ttyACM0", PICO_B)]
    started = time.monotonic()
    with pytest.raises(BoardNotFound) as caught:
        bench(attached, MPY, RUST).locate_port(MPY, timeout_s=0.5)
    assert 0.5 <= time.monotonic() - started < 1.5
    message = str(caught.value)
    assert "'mpy'" in message and PICO_A in message and "bench.yaml:3" in message
    rows = {row.board_id: row for row in bench(attached, MPY, RUST).attached()}
    assert rows["mpy"].state == "missing"


def test_a_port_that_comes_back_after_a_reset_is_found_within_the_deadline(attached):
    attached.ports = []
    the_bench = bench(attached, RUST)

    def replug():
        time.sleep(0.3)
        attached.ports = [rust_port("/dev/ttyACM3", PICO_B)]
    threading.Thread(target=replug, daemon=True).start()
    assert the_bench.locate_port(RUST, timeout_s=3) == "/dev/ttyACM3"
    assert attached.scans > 1


def test_a_board_sent_to_bootsel_is_found_on_its_usb_port_and_again_under_its_own_id(attached):
    attached.ports = [rust_port("/dev/ttyACM0", PICO_B, "1-1.2")]
    the_bench = bench(attached, RUST, flash_ids=FlashIds({"1-1.2": PICO_B}))
    assert the_bench.locate_port(RUST, timeout_s=1) == "/dev/ttyACM0"
    attached.ports = []                                   # reboot into BOOTSEL: same port, the ROM's serial
    bootsel_device(attached.sysfs_root, "1-1.2")
    rows = {row.board_id: row for row in the_bench.attached()}
    assert (rows["rust"].state, rows["rust"].vid_pid, rows["rust"].serial_number) == ("bootsel", "2e8a:0003",
                                                                                       BOOTSEL_SERIAL)
    assert "USB port 1-1.2, flash id E6614C311B4A6B2B confirmed" in rows["rust"].detail
    assert not [row for row in rows.values() if row.board_id == "-" and row.serial_number == BOOTSEL_SERIAL]
    with pytest.raises(BoardNotFound, match="in BOOTSEL at USB 1-1.2"):
        the_bench.locate_port(RUST, timeout_s=0.3)
    unplug(attached.sysfs_root, "1-1.2")                  # flashed: back under its own serial
    attached.ports = [rust_port("/dev/ttyACM1", PICO_B, "1-1.2")]
    assert the_bench.locate_port(RUST, timeout_s=1) == "/dev/ttyACM1"


def test_two_boards_in_bootsel_are_told_apart_by_usb_port(attached):
    bootsel_device(attached.sysfs_root, "1-1.2", devnum=7)
    bootsel_device(attached.sysfs_root, "1-1.3", devnum=8)
    one = BoardSpec("one", "rust", serial_number=PICO_A, usb_port="1-1.3", flash_method="picotool")
    two = BoardSpec("two", "rust", serial_number=PICO_B, usb_port="1-1.2", flash_method="picotool")
    rows = {row.board_id: row for row in bench(attached, one, two).attached()}
    assert (rows["one"].state, rows["two"].state) == ("bootsel", "bootsel")
    assert "USB 1-1.3" in rows["one"].detail and "USB 1-1.2" in rows["two"].detail
    assert "-" not in rows


def test_two_boards_in_bootsel_are_told_apart_by_flash_id_alone(attached):
    bootsel_device(attached.sysfs_root, "1-1.2", devnum=7)
    bootsel_device(attached.sysfs_root, "1-1.3", devnum=8)
    one = BoardSpec("one", "rust", serial_number=PICO_A, flash_method="picotool")
    two = BoardSpec("two", "rust", serial_number=PICO_B, flash_method="picotool")
    the_bench = bench(attached, one, two, flash_ids=FlashIds({"1-1.2": PICO_B, "1-1.3": PICO_A}))
    rows = {row.board_id: row for row in the_bench.attached()}
    assert "USB 1-1.3 (recognised by its flash id E66138935F4D4B2C)" in rows["one"].detail
    assert "USB 1-1.2 (recognised by its flash id E6614C311B4A6B2B)" in rows["two"].detail


def test_another_board_on_this_boards_port_is_named_not_taken(attached):
    bootsel_device(attached.sysfs_root, "1-1.2")
    spec = BoardSpec("rust", "rust", serial_number=PICO_B, usb_port="1-1.2", flash_method="picotool")
    match = bench(attached, spec, flash_ids=FlashIds({"1-1.2": PICO_A})).match(spec, attached.discovery().scan(False))
    assert match.state == "missing"
    assert f"has flash id {PICO_A}, not {PICO_B}" in match.detail


def test_a_bootsel_device_is_never_assumed_to_be_a_board(attached):
    bootsel_device(attached.sysfs_root, "1-1.2")
    rows = {row.board_id: row for row in bench(attached, RUST).attached()}
    assert rows["rust"].state == "missing"
    assert f"report the shared serial {BOOTSEL_SERIAL}" in rows["rust"].detail and "usb_port:" in rows["rust"].detail


def test_two_devices_with_one_serial_number_are_ambiguous_at_once(attached):
    attached.ports = [rust_port("/dev/ttyACM0", "LESSON", "1-1.2"), rust_port("/dev/ttyACM1", "LESSON", "1-1.3")]
    spec = BoardSpec("rust", "rust", serial_number="LESSON")
    started = time.monotonic()
    with pytest.raises(BoardNotFound, match="2 devices have USB serial number LESSON"):
        bench(attached, spec).locate_port(spec, timeout_s=5)
    assert time.monotonic() - started < 1


def test_two_serial_ports_of_one_device_pick_its_first_interface(attached):
    attached.ports = [port("/dev/ttyACM5", 0x2E8A, 0x000A, PICO_B, "1-1.2:1.2"),
                      port("/dev/ttyACM4", 0x2E8A, 0x000A, PICO_B, "1-1.2:1.0")]
    assert bench(attached, RUST).locate_port(RUST, timeout_s=1) == "/dev/ttyACM4"


def test_a_board_running_the_other_runtime_is_flagged_but_still_reachable(attached):
    attached.ports = [rust_port("/dev/ttyACM0", PICO_A)]
    the_bench = bench(attached, MPY)
    row = the_bench.attached()[0]
    assert row.state == "wrong-runtime"
    assert "pico-sdk/Rust USB serial" in row.detail and "bench says micropython" in row.detail
    assert the_bench.locate_port(MPY, timeout_s=1) == "/dev/ttyACM0"   # provisioning decides what to do


def test_a_probe_serial_given_as_the_board_serial_is_explained(attached):
    attached.ports = [debug_probe_port("/dev/ttyACM0")]
    spec = BoardSpec("rust", "rust", serial_number=PROBE_SERIAL)
    match = match_board(spec, attached.discovery().scan(with_probes=False))
    assert match.state == "missing" and "belongs to a Debug Probe" in match.detail


def test_vid_pid_narrows_the_match(attached):
    attached.ports = [micropython_port("/dev/ttyACM0", PICO_A)]
    spec = BoardSpec("mpy", "micropython", serial_number=PICO_A, vid_pid="2e8a:0009")
    assert match_board(spec, attached.discovery().scan(with_probes=False)).state == "missing"


def test_probe_absence_and_permissions_are_reported(attached):
    attached.ports = [rust_port("/dev/ttyACM2", PICO_B)]
    attached.probes = []
    assert "probe 2e8a:000c:E6633861A3978538 not attached" in bench(attached, RUST).attached()[0].detail
    attached.probes = [probe_listing(inaccessible=True)]
    assert "udev" in bench(attached, RUST).attached()[0].detail


def test_without_probe_rs_the_probe_is_checked_on_usb_and_a_note_says_why(attached):
    attached.probe_rs_installed = False
    attached.ports = [rust_port("/dev/ttyACM2", PICO_B)]
    write_sysfs_device(attached.sysfs_root, "1-1.4", 0x2E8A, 0x000C, PROBE_SERIAL, "Debug Probe (CMSIS-DAP)")
    rows = bench(attached, RUST).attached()
    assert rows[0].state == "present" and rows[0].detail == ""
    assert any(r.state == "note" and "probe-rs is not installed" in r.detail for r in rows)


def test_attached_devices_not_in_the_bench_file_are_listed(attached):
    attached.ports = [micropython_port("/dev/ttyACM1", PICO_A), rust_port("/dev/ttyACM7", "OTHER", "1-2")]
    attached.probes = [probe_listing("FFFF0000")]
    write_sysfs_device(attached.sysfs_root, "1-3", 0x2E8A, 0x0003, "BOOT1", "RP2 Boot")
    rows = bench(attached, MPY).attached()
    unlisted = [r for r in rows if r.state == "unlisted"]
    assert {(r.port, r.serial_number) for r in unlisted} == {("/dev/ttyACM7", "OTHER"), (None, "BOOT1"),
                                                            (None, "FFFF0000")}


def test_fixed_ports_are_used_as_given(attached, tmp_path):
    device = tmp_path / "ttyUSB0"
    device.write_text("")
    local = BoardSpec("mpy", "micropython", port=str(device))
    remote = BoardSpec("far", "micropython", port="rfc2217://pi5.lab:4000")
    gone = BoardSpec("gone", "micropython", port=str(tmp_path / "ttyUSB9"))
    the_bench = bench(attached, local, remote, gone)
    assert the_bench.locate_port(local, timeout_s=1) == str(device)
    assert the_bench.locate_port(remote, timeout_s=1) == "rfc2217://pi5.lab:4000"
    states = {row.board_id: row.state for row in the_bench.attached()}
    assert states == {"mpy": "present", "far": "remote", "gone": "missing"}


def test_a_board_absent_from_usb_fails_once_a_re_enumeration_would_be_over_not_at_a_long_deadline(attached,
                                                                                                  monkeypatch):
    import hil.bench.physical_bench as physical_bench
    monkeypatch.setattr(physical_bench, "MISSING_GRACE_S", 0.3)
    attached.ports = [rust_port("/dev/ttyACM0", PICO_B)]
    started = time.monotonic()
    with pytest.raises(BoardNotFound, match="not on USB for 0.3 s") as caught:
        bench(attached, MPY, RUST).locate_port(MPY, timeout_s=300)
    assert time.monotonic() - started < 0.3 + 1
    assert PICO_A in str(caught.value) and "bench.yaml:3" in str(caught.value)


def test_a_board_named_by_its_port_is_locked_by_the_usb_serial_behind_it(attached, tmp_path):
    device = tmp_path / "ttyACM1"
    device.write_text("")
    by_id = tmp_path / "usb-Raspberry_Pi_Pico-if00"
    by_id.symlink_to(device)
    attached.ports = [micropython_port(str(device), PICO_A)]
    by_serial = bench(attached, MPY)
    by_port = bench(attached, BoardSpec("mpy-by-port", "micropython", port=str(by_id), source="other.yaml:2"))
    assert by_port.board_identity(by_port.specs[0]) == by_serial.board_identity(MPY) == f"usb-serial:{PICO_A.lower()}"
    attached.ports = []   # nothing on that port now: the port itself, however it is spelled
    assert by_port.board_identity(by_port.specs[0]) == f"port:{device}"
