"""Who a Pico in BOOTSEL is: every RP2040 boot ROM reports the USB serial E0C9125B0D9B, so a board there is
recognised by the USB port it is plugged into (re-enumeration keeps the port) and confirmed by its flash unique id,
which picotool 2.x reads over PICOBOOT (`picotool info -d --bus B --address A`, "flash id: 0x...": the same id
pico-sdk and MicroPython report as their USB serial number when they run, and what `picotool --ser` compares
against for an RP2040 in BOOTSEL).
"""
from __future__ import annotations

from typing import Callable, Mapping

from hil.bench.usb_discovery import UsbDevice
from hil.deploy.tool_output import parse_picotool_info
from hil.deploy.tool_versions import check_version
from hil.errors import HilError
from hil.process import run_tool, tool_version

FLASH_ID_TIMEOUT_S = 10.0
DEVICE_GROUP = "Device Information"
FLASH_ID_KEY = "flash id"

FlashIdReader = Callable[[UsbDevice], "str | None"]   # a BOOTSEL device -> its flash id, None if unknown


def flash_id_argv(device: UsbDevice) -> list[str]:
    return ["picotool", "info", "-d", "--bus", str(device.busnum), "--address", str(device.devnum)]


def parse_flash_id(info_text: str) -> str | None:
    """'E66138935F4D4B2C' from `picotool info -d` output ("flash id: 0xE66138935F4D4B2C"), upper case, no 0x."""
    value = parse_picotool_info(info_text).get(DEVICE_GROUP, {}).get(FLASH_ID_KEY, "").strip()
    if not value:
        return None
    value = value[2:] if value.lower().startswith("0x") else value
    return value.upper() or None


class PicotoolFlashIdReader:
    """Reads a BOOTSEL device's flash id with picotool; None when picotool is missing, too old or cannot say."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout_s: float = FLASH_ID_TIMEOUT_S):
        self.env = dict(env) if env is not None else None
        self.timeout_s = timeout_s
        self.problem = ""      # why the last read gave None, for messages
        self._version_checked = False

    def __call__(self, device: UsbDevice) -> str | None:
        if device.busnum is None or device.devnum is None:
            self.problem = f"the OS gives no bus number/address for USB {device.bus_path}"
            return None
        try:
            if not self._version_checked:
                check_version("picotool", tool_version(["picotool", "version"], self.timeout_s, env=self.env))
                self._version_checked = True
            result = run_tool(flash_id_argv(device), self.timeout_s, env=self.env, check=False)
        except HilError as error:   # missing, too old, or hung: the identity stays unconfirmed, not guessed
            self.problem = str(error)
            return None
        flash_id = parse_flash_id(result.stdout) if result.returncode == 0 else None
        self.problem = "" if flash_id else (f"picotool could not read the flash id of USB {device.bus_path}: "
                                            f"{(result.stdout + result.stderr).strip()[:200]}")
        return flash_id
