"""The firmware build id: a hash of the ELF's loadable content, patched into a reserved slot after linking.

The firmware reserves a 16-byte slot in flash (section `.lesson_build_id`): the magic `LESSONID`, then 8 id bytes
linked as zero. The id is the first 8 bytes of SHA-256 over every loadable segment (address, size, bytes) with the
8 id bytes counted as zero, so the slot cannot influence its own value and patching is idempotent. A board that
reports the id of an image is running exactly that image's flash content.
"""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from hil.deploy.elf_image import ElfImage
from hil.errors import HilError

BUILD_ID_SECTION = ".lesson_build_id"
BUILD_ID_MAGIC = b"LESSONID"
BUILD_ID_BYTES = 8
SLOT_BYTES = len(BUILD_ID_MAGIC) + BUILD_ID_BYTES
UNPATCHED_ID_HEX = "0" * (2 * BUILD_ID_BYTES)


class BuildIdSlotMissing(HilError):
    """The ELF has no build id slot (not a firmware of this project, or the linker script dropped it)."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        super().__init__(f"{path}: no build id slot ({reason})")


def _id_offset(elf: ElfImage) -> int:
    """File offset of the 8 id bytes."""
    section = elf.section(BUILD_ID_SECTION)
    if section is None:
        raise BuildIdSlotMissing(elf.path, f"section {BUILD_ID_SECTION} not found")
    if section.size_bytes < SLOT_BYTES:
        raise BuildIdSlotMissing(elf.path, f"section {BUILD_ID_SECTION} is {section.size_bytes} bytes")
    magic = elf.data[section.file_offset:section.file_offset + len(BUILD_ID_MAGIC)]
    if magic != BUILD_ID_MAGIC:
        raise BuildIdSlotMissing(elf.path, f"section {BUILD_ID_SECTION} does not start with {BUILD_ID_MAGIC!r}")
    id_offset = section.file_offset + len(BUILD_ID_MAGIC)
    if not any(s.file_offset <= id_offset and id_offset + BUILD_ID_BYTES <= s.file_offset + s.size_bytes
               for s in elf.segments):
        raise BuildIdSlotMissing(elf.path, "the slot is not in a loadable segment")
    return id_offset


def compute_build_id(elf: ElfImage) -> str:
    """16 hex digits: SHA-256 of the loadable content with the id bytes taken as zero."""
    id_offset = _id_offset(elf)
    data = bytearray(elf.data)
    data[id_offset:id_offset + BUILD_ID_BYTES] = bytes(BUILD_ID_BYTES)
    digest = hashlib.sha256()
    for segment in elf.segments:
        digest.update(struct.pack("<II", segment.load_address, segment.size_bytes))
        digest.update(data[segment.file_offset:segment.file_offset + segment.size_bytes])
    return digest.digest()[:BUILD_ID_BYTES].hex()


def embedded_build_id(elf: ElfImage) -> str:
    """The id currently in the slot (all zeros if the ELF was never patched)."""
    id_offset = _id_offset(elf)
    return elf.data[id_offset:id_offset + BUILD_ID_BYTES].hex()


def patch_build_id(elf_path: str | Path) -> str:
    """Computes the build id of `elf_path` and writes it into the slot (no write if already there)."""
    elf = ElfImage.read(elf_path)
    build_id = compute_build_id(elf)
    if embedded_build_id(elf) != build_id:
        id_offset = _id_offset(elf)
        with open(elf_path, "r+b") as file:
            file.seek(id_offset)
            file.write(bytes.fromhex(build_id))
    return build_id
