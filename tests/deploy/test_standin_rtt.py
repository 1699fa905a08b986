"""The probe-rs stand-in's `run` prints a panic the way probe-rs does over SWD: from the RTT control block found by
the ELF's `_SEGGER_RTT` symbol and read from the board's RAM (the board process's `read_memory` request, here a
fake holding the RAM)."""
from __future__ import annotations

import struct

import pytest

from hil.sim.standins import probe_rs_standin
from hil.sim.standins.rtt import RttError, RttReader, elf_symbol_address
from hil.sim.sim_errors import SimBoardCommandFailed

RAM = 0x20000000
CONTROL_BLOCK = 0x20000100
NAME_AT, BUFFER_AT, BUFFER_BYTES = 0x20000200, 0x20000400, 128
PANIC_TEXT = "panicked at src/main.rs:42:9:\ncalled `Option::unwrap()` on a `None` value\n"


def elf_with_symbol(name: str, value: int) -> bytes:
    """A 32-bit little-endian ELF with only a .symtab (null + one symbol), its .strtab and .shstrtab."""
    strtab = b"\0" + name.encode() + b"\0"
    symtab = bytes(16) + struct.pack("<IIIBBH", 1, value, 4, 0x11, 0, 1)
    shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0"
    body_at = 52
    symtab_at, strtab_at = body_at, body_at + len(symtab)
    shstrtab_at = strtab_at + len(strtab)
    shoff = shstrtab_at + len(shstrtab)
    header = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0, 0, shoff, 0, 52, 0, 0,
                                                             40, 4, 3)
    sections = [bytes(40),
                struct.pack("<IIIIIIIIII", 1, 2, 0, 0, symtab_at, len(symtab), 2, 1, 4, 16),
                struct.pack("<IIIIIIIIII", 9, 3, 0, 0, strtab_at, len(strtab), 0, 0, 1, 0),
                struct.pack("<IIIIIIIIII", 17, 3, 0, 0, shstrtab_at, len(shstrtab), 0, 0, 1, 0)]
    return header + symtab + strtab + shstrtab + b"".join(sections)


class FakeRam:
    def __init__(self):
        self.ram = bytearray(0x1000)

    def write(self, address: int, data: bytes) -> None:
        self.ram[address - RAM:address - RAM + len(data)] = data

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.ram[address - RAM:address - RAM + length])

    def rtt(self, text: bytes, write_offset: int | None = None) -> None:
        self.write(CONTROL_BLOCK, struct.pack("<16sii", b"SEGGER RTT", 1, 0))
        self.write(CONTROL_BLOCK + 24, struct.pack("<IIIIII", NAME_AT, BUFFER_AT, BUFFER_BYTES,
                                                   len(text) if write_offset is None else write_offset, 0, 0))
        self.write(NAME_AT, b"Terminal\0")
        self.write(BUFFER_AT, text)


def test_the_control_block_is_found_by_its_symbol():
    assert elf_with_symbol("_SEGGER_RTT", CONTROL_BLOCK)[:4] == b"\x7fELF"
    assert elf_symbol_address(elf_with_symbol("_SEGGER_RTT", CONTROL_BLOCK), "_SEGGER_RTT") == CONTROL_BLOCK
    assert elf_symbol_address(elf_with_symbol("main", 0x10000100), "_SEGGER_RTT") is None


def test_up_channel_text_is_read_once_and_a_wrapped_ring_in_order():
    ram = FakeRam()
    ram.rtt(b"hello\n")
    reader = RttReader(ram.read, CONTROL_BLOCK)
    assert reader.poll() == [(0, "Terminal", "hello\n")]
    assert reader.poll() == []
    ram.write(BUFFER_AT + 6, b"x" * (BUFFER_BYTES - 6))  # fills to the end, then wraps to offset 4
    ram.write(BUFFER_AT, b"end\n")
    ram.write(CONTROL_BLOCK + 24 + 12, struct.pack("<I", 4))
    assert reader.poll() == [(0, "Terminal", "x" * (BUFFER_BYTES - 6) + "end\n")]


def test_an_uninitialised_block_is_not_mistaken_for_one():
    with pytest.raises(RttError, match="no RTT control block"):
        RttReader(FakeRam().read, CONTROL_BLOCK).poll()


class FakeClient:
    """The board's control requests: running once, then halted by `udf`; RAM through read_memory."""

    def __init__(self, ram: FakeRam, read_memory: bool = True):
        self.ram, self.read_memory, self.statuses = ram, read_memory, 0

    def board_command(self, board_id, cmd, timeout_s, **fields):
        if cmd == "status":
            self.statuses += 1
            if self.statuses == 1:
                return {"state": "running", "halt": None}
            self.ram.rtt(PANIC_TEXT.encode())         # the panic handler wrote it just before `udf`
            return {"state": "halted", "halt": {"reason": "udf", "pc": 0x10000abc, "detail": "udf #0",
                                                "message": "PANIC from the serial line"}}
        if cmd == "read_memory":
            if not self.read_memory:
                raise SimBoardCommandFailed(board_id, cmd, "unknown command 'read_memory'")
            return {"address": fields["address"], "length": fields["length"],
                    "data_hex": self.ram.read(fields["address"], fields["length"]).hex()}
        raise AssertionError(cmd)


@pytest.fixture
def panicking_elf(tmp_path):
    path = tmp_path / "panic.elf"
    path.write_bytes(elf_with_symbol("_SEGGER_RTT", CONTROL_BLOCK))
    return str(path)


def test_run_prints_the_panic_from_rtt_and_exits_1(panicking_elf, capsys, monkeypatch):
    monkeypatch.setattr(probe_rs_standin, "HALT_POLL_S", 0.0)
    ram = FakeRam()
    code = probe_rs_standin.monitor(FakeClient(ram), {"id": "sim-rust-0"}, panicking_elf)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == PANIC_TEXT                           # from RTT, not the serial line
    assert "Firmware exited unexpectedly: Exception" in err


def test_without_rtt_the_serial_line_is_not_shown_as_the_real_tool_cannot_see_it(panicking_elf, capsys,
                                                                                 monkeypatch):
    monkeypatch.setattr(probe_rs_standin, "HALT_POLL_S", 0.0)
    code = probe_rs_standin.monitor(FakeClient(FakeRam(), read_memory=False), {"id": "sim-rust-0"}, panicking_elf)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "PANIC from the serial line" not in err and "Firmware exited unexpectedly: Exception" in err
