"""Reading SEGGER RTT output from a target's RAM, as probe-rs does over SWD: the control block's address comes from
the ELF's symbol table (`_SEGGER_RTT`), then each up (target -> host) channel's ring buffer is read between the
host's read offset and the target's write offset.

Control block (SEGGER_RTT_CB, as rtt-target and SEGGER's sources lay it out, all little-endian 32-bit words):
  char acID[16] ("SEGGER RTT"), int MaxNumUpBuffers, int MaxNumDownBuffers, then MaxNumUpBuffers up-buffer
  descriptors of 6 words each: sName, pBuffer, SizeOfBuffer, WrOff, RdOff, Flags.
Memory is read through a callable (address, length) -> bytes: the simulated board's `read_memory` request.
Standard library only.
"""
from __future__ import annotations

import struct
from typing import Callable

RTT_SYMBOL = "_SEGGER_RTT"
RTT_ID = b"SEGGER RTT"
HEADER = struct.Struct("<16sii")
UP_BUFFER = struct.Struct("<IIIIII")
MAX_UP_BUFFERS = 16          # more than any firmware configures: a larger count means a corrupt block
MAX_NAME_BYTES = 32

ReadMemory = Callable[[int, int], bytes]


class RttError(Exception):
    """No usable RTT control block (not in the ELF, not initialised yet, or corrupt)."""


def elf_symbol_address(elf: bytes, name: str) -> int | None:
    """The value of symbol `name` in a 32-bit little-endian ELF's .symtab, or None."""
    if elf[:4] != b"\x7fELF" or elf[4] != 1 or elf[5] != 1:
        return None
    shoff, = struct.unpack_from("<I", elf, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", elf, shoff + i * shentsize) for i in range(shnum)]
    wanted = name.encode()
    for section in sections:
        if section[1] != 2:          # SHT_SYMTAB
            continue
        offset, size, link, entsize = section[4], section[5], section[6], section[9] or 16
        strings_offset = sections[link][4]
        for entry in range(offset, offset + size, entsize):
            st_name, st_value = struct.unpack_from("<II", elf, entry)
            end = elf.index(b"\0", strings_offset + st_name)
            if elf[strings_offset + st_name:end] == wanted:
                return st_value
    return None


class RttReader:
    """Follows the up channels of one control block, returning new text on each poll (the host's read offsets
    are kept here, so the target's buffer is never written)."""

    def __init__(self, read_memory: ReadMemory, control_block: int):
        self.read_memory = read_memory
        self.control_block = control_block
        self._read_offsets: dict[int, int] = {}

    def _channels(self) -> list[tuple[int, str, int, int, int]]:
        ident, up_count, _down_count = HEADER.unpack(self.read_memory(self.control_block, HEADER.size))
        if not ident.startswith(RTT_ID):
            raise RttError(f"no RTT control block at 0x{self.control_block:08x} (not initialised yet?)")
        if not 0 <= up_count <= MAX_UP_BUFFERS:
            raise RttError(f"RTT control block at 0x{self.control_block:08x} claims {up_count} up buffers")
        raw = self.read_memory(self.control_block + HEADER.size, UP_BUFFER.size * up_count)
        channels = []
        for number in range(up_count):
            name_at, buffer_at, size, write_offset, _rd, _flags = UP_BUFFER.unpack_from(raw, number * UP_BUFFER.size)
            if buffer_at == 0 or size == 0:
                continue
            name = ""
            if name_at:
                name = self.read_memory(name_at, MAX_NAME_BYTES).split(b"\0", 1)[0].decode("utf-8", "replace")
            channels.append((number, name, buffer_at, size, write_offset))
        return channels

    def poll(self) -> list[tuple[int, str, str]]:
        """(channel number, channel name, new text) for each up channel with output since the last poll."""
        output = []
        for number, name, buffer_at, size, write_offset in self._channels():
            read_offset = self._read_offsets.get(number, 0)
            if write_offset >= size or write_offset == read_offset:
                continue
            if write_offset > read_offset:
                data = self.read_memory(buffer_at + read_offset, write_offset - read_offset)
            else:   # the ring wrapped
                data = self.read_memory(buffer_at + read_offset, size - read_offset) + \
                    self.read_memory(buffer_at, write_offset)
            self._read_offsets[number] = write_offset
            output.append((number, name, data.decode("utf-8", "replace")))
        return output
