"""USB identities of Raspberry Pi devices, as picotool, the pico-sdk and MicroPython define them.

Used to tell a Pico running MicroPython from one running pico-sdk/Rust USB serial, from one in BOOTSEL, and from
a Debug Probe (whose own CDC UART is also a serial port and must never be mistaken for a Pico).
"""
from __future__ import annotations

RASPBERRY_PI_VID = 0x2E8A

PID_RP2040_BOOTSEL = 0x0003
PID_PICOPROBE_OLD = 0x0004
PID_MICROPYTHON = 0x0005
PID_PICO_SDK_STDIO_USB = 0x0009
PID_PICO_SDK_STDIO_USB_ALT = 0x000A
PID_DEBUG_PROBE = 0x000C
PID_RP2350_BOOTSEL = 0x000F

# The RP2040 boot ROM reports this USB serial number on every chip: in BOOTSEL a Pico cannot be told apart by it.
# Its own identity there is the flash unique id (what pico-sdk and MicroPython use as the serial number when they
# run), which picotool reads over PICOBOOT; and the USB port it is plugged into, which re-enumeration keeps.
RP2040_BOOTSEL_USB_SERIAL = "E0C9125B0D9B"

# What each product id says about the device, in the words `hil boards` prints.
KIND_MICROPYTHON = "micropython"
KIND_STDIO_USB = "stdio-usb"          # pico-sdk stdio_usb or Rust firmware using the same ids
KIND_BOOTSEL = "bootsel"
KIND_DEBUG_PROBE = "debug-probe"
KIND_OTHER = "other"

KIND_BY_PID = {
    PID_RP2040_BOOTSEL: KIND_BOOTSEL,
    PID_RP2350_BOOTSEL: KIND_BOOTSEL,
    PID_MICROPYTHON: KIND_MICROPYTHON,
    PID_PICO_SDK_STDIO_USB: KIND_STDIO_USB,
    PID_PICO_SDK_STDIO_USB_ALT: KIND_STDIO_USB,
    PID_DEBUG_PROBE: KIND_DEBUG_PROBE,
    PID_PICOPROBE_OLD: KIND_DEBUG_PROBE,
}

# Kinds that are a Pico's own application serial port (a board a bench file may name).
PICO_SERIAL_KINDS = (KIND_MICROPYTHON, KIND_STDIO_USB)


def kind_of(vid: int | None, pid: int | None) -> str:
    """What a USB device with this VID:PID is, as far as a Pico bench cares."""
    if vid != RASPBERRY_PI_VID or pid is None:
        return KIND_OTHER
    return KIND_BY_PID.get(pid, KIND_OTHER)


def format_vid_pid(vid: int, pid: int) -> str:
    """'2e8a:0005', the form bench files and probe-rs use."""
    return f"{vid:04x}:{pid:04x}"


def parse_vid_pid(text: str) -> tuple[int, int]:
    """'2e8a:0005' (any case) -> (0x2E8A, 0x0005); ValueError if malformed."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(len(p) == 4 for p in parts):
        raise ValueError(f"expected VID:PID as four hex digits each, got {text!r}")
    return int(parts[0], 16), int(parts[1], 16)


def is_shared_bootsel_serial(serial_number: str | None) -> bool:
    """True for the serial number every RP2040 in BOOTSEL reports (never a board's identity)."""
    return (serial_number or "").strip().upper() == RP2040_BOOTSEL_USB_SERIAL
