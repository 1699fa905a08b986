"""What the lesson firmware offers beyond the line protocol: the RTT control block a probe finds in the ELF, and
the `handicap-sort` cargo feature that makes Rust's sort slower on purpose (so the compute claim can be shown to
fail when it is false). Skipped when no Rust toolchain for thumbv6m-none-eabi (or no node) is installed."""
from __future__ import annotations

import shutil

import pytest

from hil.deploy.elf_image import ElfImage
from hil.deploy.firmware_build import build_firmware
from hil.deploy.rust_toolchain import NoRustToolchain, detect_toolchain

BUILD_TIMEOUT_S = 1800.0
BOOT_TIMEOUT_S = 20.0
ANSWER_TIMEOUT_S = 60.0
RAM_START, RAM_END = 0x2000_0000, 0x2004_2000
RTT_HEADER_BYTES = 24            # id (16), max up channels (4), max down channels (4)
RTT_CHANNEL_BYTES = 24           # one channel descriptor
SORT_N = 300
HANDICAP_AT_LEAST = 20           # the feature repeats the sort 30 times; allow for timer granularity


def lesson(**kwargs):
    try:
        detect_toolchain()
    except NoRustToolchain as missing:
        pytest.skip(str(missing))
    return build_firmware("lesson", BUILD_TIMEOUT_S, **kwargs)


def test_the_rtt_control_block_is_a_ram_symbol_with_room_for_an_up_channel():
    elf = ElfImage.read(lesson().elf_path)
    found = elf.symbol("_SEGGER_RTT")
    assert found is not None, "no _SEGGER_RTT in the ELF's symbol table"
    address, size_bytes = found
    assert RAM_START <= address < RAM_END
    assert size_bytes >= RTT_HEADER_BYTES + RTT_CHANNEL_BYTES
    assert elf.symbol("_SEGGER_RTT_no_such_symbol") is None


def sort_us(elf_path, tmp_path) -> int:
    from tests.sim_rust.board_harness import BoardHarness
    harness = BoardHarness(tmp_path)
    try:
        assert harness.request("load", path=str(elf_path))["ok"] is True
        assert harness.request("reset")["state"] == "running"
        harness.expect("uart", rb"READY lesson build=", BOOT_TIMEOUT_S)
        harness.received["uart"].clear()
        harness.send("uart", f"bench sort {SORT_N}\n".encode())
        answer = harness.expect("uart", rf"OK sort n={SORT_N} ok=1 us=(\d+)\n".encode(), ANSWER_TIMEOUT_S)
        return int(answer.group(1))
    finally:
        harness.close()


def test_handicap_sort_makes_the_same_sort_many_times_slower_on_the_same_clock(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the simulated bench needs Node.js")
    plain = lesson()
    handicapped = lesson(features=("handicap-sort",))
    assert handicapped.build_id != plain.build_id
    # both figures come from the firmware's own 1 MHz timer in the same emulator: one clock
    plain_us = sort_us(plain.elf_path, tmp_path / "plain")
    handicapped_us = sort_us(handicapped.elf_path, tmp_path / "handicapped")
    assert plain_us > 0
    assert handicapped_us >= HANDICAP_AT_LEAST * plain_us, (plain_us, handicapped_us)
