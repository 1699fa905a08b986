"""Writes small 32-bit ARM ELF files for the tests: loadable segments plus named sections, nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hil.deploy.elf_image import ELF_HEADER, PROGRAM_HEADER, PT_LOAD, SECTION_HEADER

EM_ARM = 40
ET_EXEC = 2
SHT_PROGBITS = 1
SHT_STRTAB = 3


@dataclass
class SegmentSpec:
    load_address: int
    content: bytes
    # named sections inside this segment: (name, offset in the segment, size)
    sections: list[tuple[str, int, int]] = field(default_factory=list)


def write_elf(path: Path, segments: list[SegmentSpec]) -> Path:
    header_bytes = ELF_HEADER.size + PROGRAM_HEADER.size * len(segments)
    body = bytearray()
    program_headers = []
    section_entries = []  # (name, address, file offset, size)
    for segment in segments:
        file_offset = header_bytes + len(body)
        body += segment.content
        program_headers.append(PROGRAM_HEADER.pack(PT_LOAD, file_offset, segment.load_address, segment.load_address,
                                                   len(segment.content), len(segment.content), 5, 4))
        for name, offset, size in segment.sections:
            section_entries.append((name, segment.load_address + offset, file_offset + offset, size))
    names = bytearray(b"\0")
    name_offsets = []
    for name, *_ in section_entries + [(".shstrtab",)]:
        name_offsets.append(len(names))
        names += name.encode() + b"\0"
    names_offset = header_bytes + len(body)
    body += names
    while (header_bytes + len(body)) % 4:
        body += b"\0"
    section_table_offset = header_bytes + len(body)
    sections = [SECTION_HEADER.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    for (name, address, offset, size), name_offset in zip(section_entries, name_offsets):
        sections.append(SECTION_HEADER.pack(name_offset, SHT_PROGBITS, 2, address, offset, size, 0, 0, 4, 0))
    sections.append(SECTION_HEADER.pack(name_offsets[-1], SHT_STRTAB, 0, 0, names_offset, len(names), 0, 0, 1, 0))
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = ELF_HEADER.pack(ident, ET_EXEC, EM_ARM, 1, segments[0].load_address if segments else 0,
                             ELF_HEADER.size, section_table_offset, 0, ELF_HEADER.size, PROGRAM_HEADER.size,
                             len(segments), SECTION_HEADER.size, len(sections), len(sections) - 1)
    path.write_bytes(header + b"".join(program_headers) + bytes(body) + b"".join(sections))
    return path


def firmware_like_elf(path: Path, code: bytes = b"\x01\x02\x03\x04" * 100, build_id: bytes = bytes(8)) -> Path:
    """An ELF shaped like the lesson firmware: code in flash, then the build id slot, then .data's flash copy."""
    slot = b"LESSONID" + build_id
    flash = code + slot
    return write_elf(path, [
        SegmentSpec(0x1000_0000, flash, [(".text", 0, len(code)), (".lesson_build_id", len(code), len(slot))]),
        SegmentSpec(0x1000_0000 + 0x1000, b"\xaa" * 40, [(".data", 0, 40)]),
    ])
