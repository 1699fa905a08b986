"""UF2 images written from an ELF: what the RP2040 bootloader (RPI-RP2 drive, picotool) accepts."""
from __future__ import annotations

import pytest

from hil.deploy.uf2 import RP2040_FAMILY_ID, UF2_BLOCK_BYTES, Uf2Error, read_uf2, write_uf2
from tests.firmware.elf_writer import SegmentSpec, write_elf


def test_each_256_byte_flash_page_becomes_one_block_with_the_rp2040_family(tmp_path):
    content = bytes(range(256)) * 2 + b"tail"          # 516 bytes: three pages
    elf = write_elf(tmp_path / "fw.elf", [SegmentSpec(0x1000_0000, content)])
    uf2 = write_uf2(elf, tmp_path / "fw.uf2")
    family, pages = read_uf2(uf2)
    assert family == RP2040_FAMILY_ID
    assert uf2.stat().st_size == 3 * UF2_BLOCK_BYTES
    assert sorted(pages) == [0x1000_0000, 0x1000_0100, 0x1000_0200]
    assert pages[0x1000_0000] == bytes(range(256))
    assert pages[0x1000_0200] == b"tail" + bytes(252)   # the rest of a partial page is zero


def test_segments_sharing_a_page_are_merged_and_blocks_are_numbered_in_order(tmp_path):
    elf = write_elf(tmp_path / "fw.elf", [SegmentSpec(0x1000_0000, b"A" * 16),
                                          SegmentSpec(0x1000_0010, b"B" * 16),
                                          SegmentSpec(0x1000_1000, b"C" * 4)])
    uf2 = write_uf2(elf, tmp_path / "fw.uf2")
    data = uf2.read_bytes()
    numbers = [int.from_bytes(data[i + 20:i + 24], "little") for i in range(0, len(data), UF2_BLOCK_BYTES)]
    totals = {int.from_bytes(data[i + 24:i + 28], "little") for i in range(0, len(data), UF2_BLOCK_BYTES)}
    assert numbers == [0, 1] and totals == {2}
    _, pages = read_uf2(uf2)
    assert pages[0x1000_0000][:32] == b"A" * 16 + b"B" * 16
    assert pages[0x1000_1000][:4] == b"CCCC"


def test_a_segment_outside_flash_cannot_go_into_a_uf2(tmp_path):
    elf = write_elf(tmp_path / "fw.elf", [SegmentSpec(0x2000_0000, b"ram")])
    with pytest.raises(Uf2Error, match="outside the RP2040's flash"):
        write_uf2(elf, tmp_path / "fw.uf2")
    assert not (tmp_path / "fw.uf2").exists()


def test_a_damaged_uf2_is_rejected_when_read(tmp_path):
    elf = write_elf(tmp_path / "fw.elf", [SegmentSpec(0x1000_0000, b"x" * 10)])
    uf2 = write_uf2(elf, tmp_path / "fw.uf2")
    data = bytearray(uf2.read_bytes())
    data[0] ^= 0xFF
    uf2.write_bytes(bytes(data))
    with pytest.raises(Uf2Error, match="wrong magic"):
        read_uf2(uf2)
