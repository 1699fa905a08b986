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
    return build_firmware("lesson", BUILD_TIMEOUT_S, **kwargs).image


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


def test_a_panic_leaves_its_message_in_the_rtt_up_channel_a_probe_reads(tmp_path):
    """What `probe-rs run` shows: the control block at `_SEGGER_RTT` names up channel 0, whose ring buffer holds
    the same PANIC line as the serial links. Needs a board process that can read target memory."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the simulated bench needs Node.js")
    import struct

    from tests.sim_rust.board_harness import BoardHarness
    build = lesson()
    address, size_bytes = ElfImage.read(build.elf_path).symbol("_SEGGER_RTT")
    harness = BoardHarness(tmp_path)
    try:
        assert harness.request("load", path=str(build.elf_path))["ok"] is True
        assert harness.request("reset")["state"] == "running"
        harness.expect("uart", rb"READY lesson build=", BOOT_TIMEOUT_S)
        harness.send("uart", b"panic explicit\n")
        line = harness.expect("uart", rb"PANIC [^\n]*\n", ANSWER_TIMEOUT_S).group(0)
        harness.wait_event("halt", ANSWER_TIMEOUT_S)
        reply = harness.request("read_memory", address=address, length=size_bytes)
        if not reply.get("ok", True) or "data_hex" not in reply:
            pytest.skip(f"this board process cannot read target memory: {reply.get('error', reply)}")
        block = bytes.fromhex(reply["data_hex"])
        assert block[:10] == b"SEGGER RTT"
        max_up, _max_down = struct.unpack_from("<II", block, 16)
        assert max_up >= 1
        _name, buffer, buffer_bytes, write_offset, read_offset, _flags = struct.unpack_from("<IIIIII", block, 24)
        assert RAM_START <= buffer < RAM_END and 0 <= read_offset <= write_offset <= buffer_bytes
        written = bytes.fromhex(harness.request("read_memory", address=buffer, length=write_offset)["data_hex"])
        assert written.endswith(line)
    finally:
        harness.close()
