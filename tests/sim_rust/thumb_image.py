"""Tiny test firmware for the simulated RP2040, written in Python: a two-pass Thumb assembler for the handful
of instructions the tests need, and writers for the image formats the board loads (ELF, UF2, BIN).

Images built here keep the board's tests independent of the lesson firmware's build.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

FLASH_BASE = 0x10000000
BOOT2_SIZE_BYTES = 256
INITIAL_SP = 0x20042000
UART0_BASE = 0x40034000
UART_DR_OFFSET = 0x00
UART_FR_OFFSET = 0x18
UART_FR_RXFE = 0x10
PPB_ICSR = 0xE000ED04
PPB_AIRCR = 0xE000ED0C
AIRCR_SYSRESETREQ = 0x05FA0004  # VECTKEY | SYSRESETREQ
ICSR_NMIPENDSET = 1 << 31
SIO_BASE = 0xD0000000
SIO_FIFO_ST_OFFSET = 0x50
SIO_FIFO_WR_OFFSET = 0x54
SIO_FIFO_RD_OFFSET = 0x58
SIO_FIFO_ST_VLD = 0x1
CORE1_STACK_TOP = 0x20040000
UNMAPPED_ADDRESS = 0x30000000  # nothing is mapped there: a bus fault on real silicon
FLASH_PAGE_BYTES = 256
VECTOR_COUNT = 48  # 16 system exceptions + 32 IRQs

COND = {"eq": 0, "ne": 1, "cs": 2, "cc": 3, "mi": 4, "pl": 5, "hi": 8, "ls": 9, "ge": 10, "lt": 11}


@dataclass
class ThumbProgram:
    """Instructions and data placed after the vector table; labels resolve on `assemble`."""

    items: list = field(default_factory=list)

    def label(self, name: str) -> "ThumbProgram":
        self.items.append(("label", name))
        return self

    def op(self, kind: str, *args) -> "ThumbProgram":
        self.items.append((kind, *args))
        return self

    def assemble(self, base: int) -> tuple[bytes, dict[str, int]]:
        labels: dict[str, int] = {}
        for pass_no in (0, 1):
            out = bytearray()
            for item in self.items:
                kind, args = item[0], item[1:]
                here = base + len(out)
                if kind == "label":
                    labels[args[0]] = here
                elif kind == "align4":
                    while len(out) % 4:
                        out += b"\x00"
                elif kind == "word":
                    out += struct.pack("<I", args[0] if isinstance(args[0], int) else labels.get(args[0], 0))
                elif kind == "code_address":  # a function pointer: label address with the Thumb bit
                    out += struct.pack("<I", labels.get(args[0], 0) | 1)
                elif kind == "ascii":
                    out += args[0].encode()
                else:
                    out += struct.pack("<H", _encode(kind, args, here, labels, pass_no))
        return bytes(out), labels


def _branch_offset(target: int, here: int) -> int:
    return (target - (here + 4)) >> 1


def _encode(kind: str, args: tuple, here: int, labels: dict[str, int], pass_no: int) -> int:
    def addr(name: str) -> int:
        return labels.get(name, here) if pass_no == 0 else labels[name]

    if kind == "movs":  # movs rd, #imm8
        return 0x2000 | args[0] << 8 | args[1]
    if kind == "adds":  # adds rdn, #imm8
        return 0x3000 | args[0] << 8 | args[1]
    if kind == "subs":  # subs rdn, #imm8
        return 0x3800 | args[0] << 8 | args[1]
    if kind == "cmp":  # cmp rn, #imm8
        return 0x2800 | args[0] << 8 | args[1]
    if kind == "ldr_lit":  # ldr rt, =label (word in a literal pool)
        offset = addr(args[1]) - ((here + 4) & ~3)
        return 0x4800 | args[0] << 8 | (offset >> 2 if pass_no else 0)
    if kind == "adr":  # adr rd, label
        offset = addr(args[1]) - ((here + 4) & ~3)
        return 0xA000 | args[0] << 8 | (offset >> 2 if pass_no else 0)
    if kind == "ldr":  # ldr rt, [rn, #imm]
        return 0x6800 | (args[2] >> 2) << 6 | args[1] << 3 | args[0]
    if kind == "str":  # str rt, [rn, #imm]
        return 0x6000 | (args[2] >> 2) << 6 | args[1] << 3 | args[0]
    if kind == "ldrb":  # ldrb rt, [rn, #imm]
        return 0x7800 | args[2] << 6 | args[1] << 3 | args[0]
    if kind == "tst":  # tst rn, rm
        return 0x4200 | args[1] << 3 | args[0]
    if kind == "bcond":  # b<cond> label
        return 0xD000 | COND[args[0]] << 8 | (_branch_offset(addr(args[1]), here) & 0xFF)
    if kind == "b":  # b label
        return 0xE000 | (_branch_offset(addr(args[0]), here) & 0x7FF)
    if kind == "udf":
        return 0xDE00 | args[0]
    if kind == "bkpt":
        return 0xBE00 | args[0]
    if kind == "nop":
        return 0xBF00
    raise ValueError(f"unknown instruction {kind}")


def build_flash(program: ThumbProgram, *, with_boot2: bool = True, nmi_label: str | None = None) -> bytes:
    """Flash contents from 0x10000000: optional boot2 placeholder, vector table, then the program."""
    table_at = FLASH_BASE + (BOOT2_SIZE_BYTES if with_boot2 else 0)
    code_at = table_at + VECTOR_COUNT * 4
    code, labels = program.assemble(code_at)
    vectors = [INITIAL_SP, labels["reset"] | 1]
    vectors += [labels[nmi_label] | 1 if nmi_label else labels["reset"] | 1]
    vectors += [labels["reset"] | 1] * (VECTOR_COUNT - 3)
    table = struct.pack(f"<{VECTOR_COUNT}I", *vectors)
    # A boot2 stand-in: 256 bytes of code-like words that are not a vector table (boot2 is never run here).
    boot2 = struct.pack("<I", 0x4B32B500) + bytes(range(BOOT2_SIZE_BYTES - 4)) if with_boot2 else b""
    image = boot2 + table + code
    # whole 256-byte flash pages, erased bytes at the end: ELF, UF2 and BIN then program identical flash
    return image + b"\xff" * (-len(image) % FLASH_PAGE_BYTES)


def elf_from_flash(flash: bytes) -> bytes:
    """A minimal ELF32 (ARM, little-endian, executable) with one PT_LOAD segment at 0x10000000."""
    ehdr_size, phdr_size = 52, 32
    data_offset = ehdr_size + phdr_size
    entry = struct.unpack_from("<I", flash, BOOT2_SIZE_BYTES + 4 if _has_boot2(flash) else 4)[0]
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, entry, ehdr_size, 0, 0x5000200, ehdr_size, phdr_size, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, data_offset, FLASH_BASE, FLASH_BASE, len(flash), len(flash), 5, 4)
    return ehdr + phdr + flash


def _has_boot2(flash: bytes) -> bool:
    return struct.unpack_from("<I", flash, 0)[0] != INITIAL_SP


UF2_MAGIC = (0x0A324655, 0x9E5D5157, 0x0AB16F30)
UF2_FAMILY_RP2040 = 0xE48BFF56
UF2_PAYLOAD_BYTES = 256


def uf2_from_flash(flash: bytes) -> bytes:
    """UF2 as picotool/elf2uf2 write it for the RP2040: 256-byte payloads, family id set."""
    chunks = [flash[i:i + UF2_PAYLOAD_BYTES] for i in range(0, len(flash), UF2_PAYLOAD_BYTES)]
    out = bytearray()
    for n, chunk in enumerate(chunks):
        header = struct.pack("<8I", UF2_MAGIC[0], UF2_MAGIC[1], 0x2000, FLASH_BASE + n * UF2_PAYLOAD_BYTES,
                             UF2_PAYLOAD_BYTES, n, len(chunks), UF2_FAMILY_RP2040)
        payload = chunk.ljust(476, b"\x00")
        out += header + payload + struct.pack("<I", UF2_MAGIC[2])
    return bytes(out)


# ---- the test firmwares ------------------------------------------------------------------------------------

def _print_then(text: str, then: ThumbProgram) -> ThumbProgram:
    """reset: write `text` to UART0 byte by byte, then continue with `then`'s items."""
    p = ThumbProgram()
    p.label("reset").op("ldr_lit", 0, "uart").op("adr", 1, "msg")
    p.label("print").op("ldrb", 2, 1, 0).op("cmp", 2, 0).op("bcond", "eq", "after")
    p.op("str", 2, 0, UART_DR_OFFSET).op("adds", 1, 1).op("b", "print")
    p.label("after")
    p.items += then.items
    p.op("align4").label("uart").op("word", UART0_BASE)
    p.op("align4").label("msg").op("ascii", text + "\0").op("align4")
    return p


def echo_firmware() -> ThumbProgram:
    """Prints a banner on UART0, then echoes every byte it receives."""
    tail = ThumbProgram()
    tail.label("echo").op("ldr", 2, 0, UART_FR_OFFSET).op("movs", 3, UART_FR_RXFE).op("tst", 2, 3)
    tail.op("bcond", "ne", "echo").op("ldr", 2, 0, UART_DR_OFFSET).op("str", 2, 0, UART_DR_OFFSET).op("b", "echo")
    return _print_then("READY echo\n", tail)


def panic_udf_firmware(message: str) -> ThumbProgram:
    """Prints a panic line, then executes `udf #0` as panic-probe does."""
    return _print_then(f"PANIC {message}\n", ThumbProgram().op("udf", 0))


def panic_loop_firmware(message: str) -> ThumbProgram:
    """Prints a panic line, then spins in `b .` as panic-halt does."""
    return _print_then(f"PANIC {message}\n", ThumbProgram().label("spin").op("b", "spin"))


def bkpt_firmware() -> ThumbProgram:
    return _print_then("before bkpt\n", ThumbProgram().op("bkpt", 1))


def bus_fault_firmware() -> ThumbProgram:
    """Reads from an unmapped address: HardFault on real silicon."""
    tail = ThumbProgram().op("ldr_lit", 3, "bad").op("ldr", 2, 3, 0).label("stuck").op("b", "stuck")
    tail.op("align4").label("bad").op("word", UNMAPPED_ADDRESS)
    return _print_then("before fault\n", tail)


def lockup_firmware() -> ThumbProgram:
    """Pends an NMI whose handler faults: a fault in the NMI handler locks the core up."""
    tail = ThumbProgram().op("ldr_lit", 3, "icsr").op("ldr_lit", 2, "nmipend").op("str", 2, 3, 0)
    tail.label("wait").op("nop").op("b", "wait")
    tail.label("nmi").op("ldr_lit", 3, "bad").op("ldr", 2, 3, 0).label("nmi_stuck").op("b", "nmi_stuck")
    tail.op("align4").label("icsr").op("word", PPB_ICSR).label("nmipend").op("word", ICSR_NMIPENDSET)
    tail.label("bad").op("word", UNMAPPED_ADDRESS)
    return _print_then("before lockup\n", tail)


def silent_spin_firmware() -> ThumbProgram:
    """Counts forever and never prints: a firmware that is alive but unresponsive."""
    p = ThumbProgram()
    p.label("reset").op("movs", 0, 0)
    p.label("count").op("adds", 0, 1).op("nop").op("b", "count")
    return p


def system_reset_firmware() -> ThumbProgram:
    """Prints a banner, then requests a system reset (SCB::sys_reset): it restarts over and over."""
    tail = ThumbProgram().op("ldr_lit", 3, "aircr").op("ldr_lit", 2, "request").op("str", 2, 3, 0)
    tail.label("wait").op("b", "wait")
    tail.op("align4").label("aircr").op("word", PPB_AIRCR).label("request").op("word", AIRCR_SYSRESETREQ)
    return _print_then("booted\n", tail)


def core1_launch_firmware() -> ThumbProgram:
    """Core 0 prints a banner and launches core 1 through the bootrom's FIFO handshake (0, 0, 1, VTOR, SP,
    entry; each word echoed back); core 1 then prints "core1" on UART0. Both cores end in an idle loop."""
    tail = ThumbProgram().op("ldr_lit", 0, "sio").op("adr", 1, "launch").op("movs", 4, 6)
    tail.label("next").op("ldr", 2, 1, 0).op("str", 2, 0, SIO_FIFO_WR_OFFSET)
    tail.label("wait").op("ldr", 3, 0, SIO_FIFO_ST_OFFSET).op("movs", 5, SIO_FIFO_ST_VLD).op("tst", 3, 5)
    tail.op("bcond", "eq", "wait").op("ldr", 3, 0, SIO_FIFO_RD_OFFSET)
    tail.op("adds", 1, 4).op("subs", 4, 1).op("bcond", "ne", "next")
    tail.label("idle0").op("nop").op("b", "idle0")
    tail.label("core1").op("ldr_lit", 0, "uart1st").op("adr", 1, "core1msg")
    tail.label("print1").op("ldrb", 2, 1, 0).op("cmp", 2, 0).op("bcond", "eq", "idle1")
    tail.op("str", 2, 0, UART_DR_OFFSET).op("adds", 1, 1).op("b", "print1")
    tail.label("idle1").op("nop").op("b", "idle1")
    tail.op("align4").label("sio").op("word", SIO_BASE).label("uart1st").op("word", UART0_BASE)
    tail.label("launch").op("word", 0).op("word", 0).op("word", 1).op("word", FLASH_BASE + BOOT2_SIZE_BYTES)
    tail.op("word", CORE1_STACK_TOP).op("code_address", "core1")
    tail.label("core1msg").op("ascii", "core1\n\0").op("align4")
    return _print_then("core0\n", tail)


SEMIHOSTING_SYS_EXIT = 0x18
ADP_STOPPED_APPLICATION_EXIT = 0x20026
ADP_STOPPED_RUNTIME_ERROR_UNKNOWN = 0x20023


def semihosting_exit_firmware(success: bool) -> ThumbProgram:
    """Ends the program the way cortex-m-semihosting's `debug::exit` does: `bkpt 0xab` with SYS_EXIT."""
    tail = ThumbProgram().op("movs", 0, SEMIHOSTING_SYS_EXIT).op("ldr_lit", 1, "status").op("bkpt", 0xAB)
    tail.op("align4").label("status")
    tail.op("word", ADP_STOPPED_APPLICATION_EXIT if success else ADP_STOPPED_RUNTIME_ERROR_UNKNOWN)
    return _print_then("tests done\n", tail)
