"""What pyserial's list_ports, Linux sysfs and `probe-rs list` would show for a given set of attached devices."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hil.deploy.tool_output import ProbeListing

PICO_A = "E66138935F4D4B2C"
PICO_B = "E6614C311B4A6B2B"
PROBE_SERIAL = "E6633861A3978538"


def port(device: str, vid: int | None, pid: int | None, serial: str | None, location: str | None = None,
         description: str = "") -> SimpleNamespace:
    """One entry as serial.tools.list_ports.comports() returns it (the attributes used)."""
    return SimpleNamespace(device=device, vid=vid, pid=pid, serial_number=serial, location=location,
                           description=description)


def micropython_port(device: str, serial: str, bus: str = "1-1.1") -> SimpleNamespace:
    return port(device, 0x2E8A, 0x0005, serial, f"{bus}:1.0", "Board in FS mode")


def rust_port(device: str, serial: str, bus: str = "1-1.2") -> SimpleNamespace:
    return port(device, 0x2E8A, 0x000A, serial, f"{bus}:1.0", "Pico lesson firmware")


def debug_probe_port(device: str, serial: str = PROBE_SERIAL, bus: str = "1-1.4") -> SimpleNamespace:
    return port(device, 0x2E8A, 0x000C, serial, f"{bus}:1.1", "Debug Probe (CMSIS-DAP)")


BOOTSEL_SERIAL = "E0C9125B0D9B"   # what every RP2040 boot ROM reports


def write_sysfs_device(root: Path, bus_path: str, vid: int, pid: int, serial: str | None, product: str,
                       devnum: int | None = None) -> None:
    folder = root / bus_path
    folder.mkdir(parents=True, exist_ok=True)
    if devnum is not None:
        (folder / "busnum").write_text(bus_path.split("-")[0] + "\n")
        (folder / "devnum").write_text(f"{devnum}\n")
    (folder / "idVendor").write_text(f"{vid:04x}\n")
    (folder / "idProduct").write_text(f"{pid:04x}\n")
    if serial:
        (folder / "serial").write_text(serial + "\n")
    (folder / "product").write_text(product + "\n")
    (root / f"{bus_path}:1.0").mkdir(exist_ok=True)   # an interface entry, which discovery must skip


def probe_listing(serial: str = PROBE_SERIAL, inaccessible: bool = False) -> ProbeListing:
    return ProbeListing(0, "Debug Probe (CMSIS-DAP)", 0x2E8A, 0x000C, None, serial, "CMSIS-DAP", inaccessible)


def bootsel_device(root: Path, bus_path: str, devnum: int = 9) -> None:
    """A Pico in BOOTSEL on USB port `bus_path`, as the RP2040 boot ROM enumerates."""
    write_sysfs_device(root, bus_path, 0x2E8A, 0x0003, BOOTSEL_SERIAL, "RP2 Boot", devnum)


def unplug(root: Path, bus_path: str) -> None:
    import shutil
    shutil.rmtree(root / bus_path, ignore_errors=True)
    shutil.rmtree(root / f"{bus_path}:1.0", ignore_errors=True)
