"""The parts of an ELF file that end up in a microcontroller's memory: what UF2 writing and the build id need.

Only 32-bit little-endian ELF (ARM Cortex-M) is read. Load addresses are the physical ones (p_paddr), which is
where initialised data lives in flash before start-up copies it to RAM.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from hil.errors import HilError

ELF_MAGIC = b"\x7fELF"
ELF_CLASS_32 = 1
ELF_DATA_LITTLE_ENDIAN = 1
PT_LOAD = 1
ELF_HEADER = struct.Struct("<16sHHIIIIIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIIIIIII")
SECTION_HEADER = struct.Struct("<IIIIIIIIII")
SYMBOL = struct.Struct("<IIIBBH")      # Elf32_Sym: name, value, size, info, other, section index


class ElfFormatError(HilError):
    """A file is not the kind of ELF the firmware build produces."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class LoadSegment:
    """One PT_LOAD segment's file bytes: `size_bytes` bytes at `file_offset`, loaded at `load_address`."""
    load_address: int
    file_offset: int
    size_bytes: int


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    file_offset: int
    size_bytes: int


class ElfImage:
    """An ELF file's bytes with its loadable segments and named sections."""

    def __init__(self, path: str | Path, data: bytes):
        self.path = Path(path)
        self.data = data
        self.segments, self.sections = _parse(self.path, data)

    @classmethod
    def read(cls, path: str | Path) -> "ElfImage":
        return cls(path, Path(path).read_bytes())

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def symbol(self, name: str) -> tuple[int, int] | None:
        """(address, size in bytes) of the symbol `name` from the symbol table, or None (absent or stripped).
        E.g. `_SEGGER_RTT`, the RTT control block a probe reads."""
        symtab, strtab = self.section(".symtab"), self.section(".strtab")
        if symtab is None or strtab is None:
            return None
        wanted = name.encode()
        end = min(symtab.file_offset + symtab.size_bytes, len(self.data))
        for offset in range(symtab.file_offset, end - SYMBOL.size + 1, SYMBOL.size):
            st_name, value, size, _info, _other, _shndx = SYMBOL.unpack_from(self.data, offset)
            start = strtab.file_offset + st_name
            if self.data[start:start + len(wanted) + 1] == wanted + b"\0":
                return value, size
        return None

    def segment_bytes(self, segment: LoadSegment) -> bytes:
        return self.data[segment.file_offset:segment.file_offset + segment.size_bytes]


def _parse(path: Path, data: bytes) -> tuple[list[LoadSegment], list[Section]]:
    if len(data) < ELF_HEADER.size or data[:4] != ELF_MAGIC:
        raise ElfFormatError(path, "not an ELF file")
    if data[4] != ELF_CLASS_32 or data[5] != ELF_DATA_LITTLE_ENDIAN:
        raise ElfFormatError(path, "not a 32-bit little-endian ELF (expected an RP2040 firmware)")
    (_, _, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = ELF_HEADER.unpack_from(data)
    segments = []
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + PROGRAM_HEADER.size > len(data):
            raise ElfFormatError(path, "truncated program header table")
        p_type, p_offset, _vaddr, p_paddr, p_filesz, _memsz, _flags, _align = PROGRAM_HEADER.unpack_from(data, offset)
        if p_type == PT_LOAD and p_filesz > 0:
            if p_offset + p_filesz > len(data):
                raise ElfFormatError(path, f"segment {index} extends past the end of the file")
            segments.append(LoadSegment(p_paddr, p_offset, p_filesz))
    segments.sort(key=lambda s: s.load_address)
    return segments, _sections(path, data, shoff, shentsize, shnum, shstrndx)


def _sections(path: Path, data: bytes, shoff: int, shentsize: int, shnum: int, shstrndx: int) -> list[Section]:
    if shoff == 0 or shnum == 0:
        return []
    headers = []
    for index in range(shnum):
        offset = shoff + index * shentsize
        if offset + SECTION_HEADER.size > len(data):
            raise ElfFormatError(path, "truncated section header table")
        headers.append(SECTION_HEADER.unpack_from(data, offset))
    if shstrndx >= len(headers):
        return []
    names_offset = headers[shstrndx][4]
    sections = []
    for sh_name, _type, _flags, sh_addr, sh_offset, sh_size, *_ in headers:
        start = names_offset + sh_name
        end = data.find(b"\0", start)
        name = data[start:end].decode("ascii", "replace") if end >= 0 else ""
        sections.append(Section(name, sh_addr, sh_offset, sh_size))
    return sections
