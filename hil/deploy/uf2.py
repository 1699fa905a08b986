"""UF2 images for the RP2040 bootloader (the RPI-RP2 drive and picotool), written from an ELF.

Format (microsoft/uf2): 512-byte blocks, each carrying 256 bytes for one 256-byte-aligned flash address, with the
RP2040 family id so the bootloader accepts them.
"""
from __future__ import annotations

import struct
from pathlib import Path

from hil.deploy.elf_image import ElfImage
from hil.errors import HilError

UF2_MAGIC_START0 = 0x0A324655
UF2_MAGIC_START1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000
RP2040_FAMILY_ID = 0xE48BFF56
UF2_BLOCK_BYTES = 512
UF2_PAYLOAD_BYTES = 256
UF2_HEADER = struct.Struct("<IIIIIIII")
UF2_DATA_AREA_BYTES = 476
RP2040_FLASH_START = 0x1000_0000
RP2040_FLASH_MAX_BYTES = 16 * 1024 * 1024


class Uf2Error(HilError):
    """An image cannot be turned into (or read as) an RP2040 UF2."""


def flash_pages(elf: ElfImage) -> dict[int, bytearray]:
    """The ELF's loadable bytes as 256-byte pages keyed by address; gaps inside a page are zero."""
    pages: dict[int, bytearray] = {}
    for segment in elf.segments:
        end = segment.load_address + segment.size_bytes
        if segment.load_address < RP2040_FLASH_START or end > RP2040_FLASH_START + RP2040_FLASH_MAX_BYTES:
            raise Uf2Error(f"{elf.path}: segment at 0x{segment.load_address:08x} is outside the RP2040's flash; "
                           "a UF2 can only carry flash contents")
        content = elf.segment_bytes(segment)
        for offset, byte_chunk in _page_chunks(segment.load_address, content):
            page_address = offset - offset % UF2_PAYLOAD_BYTES
            page = pages.setdefault(page_address, bytearray(UF2_PAYLOAD_BYTES))
            start = offset - page_address
            page[start:start + len(byte_chunk)] = byte_chunk
    return pages


def _page_chunks(address: int, content: bytes):
    position = 0
    while position < len(content):
        here = address + position
        room = UF2_PAYLOAD_BYTES - here % UF2_PAYLOAD_BYTES
        yield here, content[position:position + room]
        position += room


def uf2_bytes(elf: ElfImage, family_id: int = RP2040_FAMILY_ID) -> bytes:
    pages = flash_pages(elf)
    if not pages:
        raise Uf2Error(f"{elf.path}: no loadable content")
    blocks = []
    total = len(pages)
    for number, address in enumerate(sorted(pages)):
        header = UF2_HEADER.pack(UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_FLAG_FAMILY_ID_PRESENT, address,
                                 UF2_PAYLOAD_BYTES, number, total, family_id)
        data = bytes(pages[address]).ljust(UF2_DATA_AREA_BYTES, b"\0")
        blocks.append(header + data + struct.pack("<I", UF2_MAGIC_END))
    return b"".join(blocks)


def write_uf2(elf_path: str | Path, uf2_path: str | Path) -> Path:
    """Writes the UF2 for `elf_path` to `uf2_path` (atomically: a reader never sees half a file)."""
    uf2_path = Path(uf2_path)
    data = uf2_bytes(ElfImage.read(elf_path))
    partial = uf2_path.with_name(uf2_path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(uf2_path)
    return uf2_path


def read_uf2(path: str | Path) -> tuple[int, dict[int, bytes]]:
    """(family id, {address: 256 payload bytes}) of a UF2 file; checks every block's magic numbers."""
    data = Path(path).read_bytes()
    if len(data) % UF2_BLOCK_BYTES:
        raise Uf2Error(f"{path}: size {len(data)} is not a multiple of {UF2_BLOCK_BYTES}")
    family = None
    pages: dict[int, bytes] = {}
    for offset in range(0, len(data), UF2_BLOCK_BYTES):
        block = data[offset:offset + UF2_BLOCK_BYTES]
        magic0, magic1, flags, address, size, _number, _total, family_id = UF2_HEADER.unpack_from(block)
        (magic_end,) = struct.unpack_from("<I", block, UF2_BLOCK_BYTES - 4)
        if (magic0, magic1, magic_end) != (UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END):
            raise Uf2Error(f"{path}: block at offset {offset} has wrong magic numbers")
        if flags & UF2_FLAG_FAMILY_ID_PRESENT:
            family = family_id
        pages[address] = block[UF2_HEADER.size:UF2_HEADER.size + size]
    return family or 0, pages
