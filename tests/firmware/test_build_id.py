"""The build id: a hash of the ELF's loadable content, patched into the firmware's reserved slot."""
from __future__ import annotations

import pytest

from hil.deploy.build_id import (UNPATCHED_ID_HEX, BuildIdSlotMissing, compute_build_id, embedded_build_id,
                                 patch_build_id)
from hil.deploy.elf_image import ElfImage
from tests.firmware.elf_writer import SegmentSpec, firmware_like_elf, write_elf


def test_patching_writes_the_id_into_the_slot_and_is_idempotent(tmp_path):
    elf = firmware_like_elf(tmp_path / "fw.elf")
    assert embedded_build_id(ElfImage.read(elf)) == UNPATCHED_ID_HEX
    build_id = patch_build_id(elf)
    assert len(build_id) == 16 and int(build_id, 16) > 0
    assert embedded_build_id(ElfImage.read(elf)) == build_id
    patched_bytes = elf.read_bytes()
    assert patch_build_id(elf) == build_id          # the slot does not feed its own hash
    assert elf.read_bytes() == patched_bytes


def test_the_id_does_not_depend_on_what_the_slot_held(tmp_path):
    plain = firmware_like_elf(tmp_path / "a.elf")
    stale = firmware_like_elf(tmp_path / "b.elf", build_id=bytes.fromhex("0123456789abcdef"))
    assert compute_build_id(ElfImage.read(plain)) == compute_build_id(ElfImage.read(stale))


def test_any_change_of_loadable_content_changes_the_id(tmp_path):
    first = firmware_like_elf(tmp_path / "a.elf", code=b"\x00" * 64)
    second = firmware_like_elf(tmp_path / "b.elf", code=b"\x00" * 63 + b"\x01")
    assert compute_build_id(ElfImage.read(first)) != compute_build_id(ElfImage.read(second))


def test_an_elf_without_the_slot_is_reported(tmp_path):
    elf = write_elf(tmp_path / "other.elf", [SegmentSpec(0x1000_0000, b"code" * 8, [(".text", 0, 32)])])
    with pytest.raises(BuildIdSlotMissing, match=".lesson_build_id not found"):
        patch_build_id(elf)
