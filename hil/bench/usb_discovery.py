"""What is plugged in: USB serial ports (pyserial list_ports), USB devices without a serial port (a Pico in
BOOTSEL shows up only as a USB device; read from Linux sysfs), and debug probes (`probe-rs list`).

Discovery only looks: it never opens a port. Matching what it finds to a bench file's boards is PhysicalBench's
job; `hil bench init` turns a discovery into a bench file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from serial.tools import list_ports

from hil.bench.usb_ids import (
    KIND_BOOTSEL, KIND_DEBUG_PROBE, PICO_SERIAL_KINDS, format_vid_pid, kind_of,
)
from hil.deploy.tool_output import ProbeListing
from hil.errors import ToolFailed, ToolMissing, ToolTimeout

SYSFS_USB_DEVICES = Path("/sys/bus/usb/devices")
PROBE_LIST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class UsbSerialPort:
    """One serial port with the USB identity of the device behind it (None for non-USB ports)."""

    device: str                      # /dev/ttyACM0, COM5, ...
    vid: int | None
    pid: int | None
    serial_number: str | None
    location: str | None = None      # e.g. "1-1.3:1.0" (bus path : configuration.interface)
    description: str = ""

    @property
    def kind(self) -> str:
        return kind_of(self.vid, self.pid)

    @property
    def vid_pid(self) -> str | None:
        return format_vid_pid(self.vid, self.pid) if self.vid is not None and self.pid is not None else None

    @property
    def bus_path(self) -> str | None:
        """The USB port path of the device behind this port ("1-1.3"): the same physical port keeps it."""
        return self.location.split(":")[0] if self.location else None

    @property
    def interface_number(self) -> int | None:
        """The USB interface this port belongs to (a composite device may have several serial ports)."""
        if not self.location or ":" not in self.location:
            return None
        try:
            return int(self.location.rsplit(".", 1)[-1])
        except ValueError:
            return None


@dataclass(frozen=True)
class UsbDevice:
    """A USB device as the OS lists it, whether or not it has a serial port."""

    vid: int
    pid: int
    serial_number: str | None
    bus_path: str                    # e.g. "1-1.3": the physical port, kept across re-enumeration
    product: str = ""
    busnum: int | None = None        # libusb's bus number and device address (picotool --bus / --address)
    devnum: int | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.vid, self.pid)

    @property
    def vid_pid(self) -> str:
        return format_vid_pid(self.vid, self.pid)


@dataclass
class Discovery:
    """One look at the host's USB: ports, devices and probes at a moment."""

    ports: list[UsbSerialPort] = field(default_factory=list)
    usb_devices: list[UsbDevice] = field(default_factory=list)
    probes: list[ProbeListing] = field(default_factory=list)
    probes_listed: bool = False      # `probe-rs list` ran, so `probes` is the whole truth
    notes: list[str] = field(default_factory=list)   # e.g. "probe-rs is not installed: ..."

    def pico_ports(self) -> list[UsbSerialPort]:
        return [p for p in self.ports if p.kind in PICO_SERIAL_KINDS]

    def bootsel_devices(self) -> list[UsbDevice]:
        return [d for d in self.usb_devices if d.kind == KIND_BOOTSEL]

    def debug_probe_ports(self) -> list[UsbSerialPort]:
        return [p for p in self.ports if p.kind == KIND_DEBUG_PROBE]

    def ports_with_serial(self, serial_number: str) -> list[UsbSerialPort]:
        wanted = serial_number.casefold()
        return [p for p in self.ports if p.serial_number and p.serial_number.casefold() == wanted]

    def bootsel_device_at(self, bus_path: str) -> UsbDevice | None:
        """The BOOTSEL device plugged into USB port `bus_path`, if any."""
        return next((d for d in self.bootsel_devices() if d.bus_path == bus_path), None)


def _read_sysfs(folder: Path, name: str) -> str | None:
    try:
        return (folder / name).read_text().strip()
    except OSError:
        return None


def _read_int(folder: Path, name: str) -> int | None:
    text = _read_sysfs(folder, name)
    return int(text) if text and text.isdigit() else None


def scan_sysfs_usb(root: Path = SYSFS_USB_DEVICES) -> list[UsbDevice]:
    """USB devices from Linux sysfs (an empty list elsewhere): the only place a BOOTSEL Pico is visible."""
    devices = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return devices
    for entry in entries:
        if ":" in entry.name:   # interfaces (1-1:1.0) repeat their device
            continue
        vid, pid = _read_sysfs(entry, "idVendor"), _read_sysfs(entry, "idProduct")
        if not vid or not pid:
            continue
        try:
            devices.append(UsbDevice(int(vid, 16), int(pid, 16), _read_sysfs(entry, "serial"), entry.name,
                                     _read_sysfs(entry, "product") or "", _read_int(entry, "busnum"),
                                     _read_int(entry, "devnum")))
        except ValueError:
            continue
    return devices


class UsbDiscovery:
    """Looks at what is attached. Every source can be replaced (tests, other platforms)."""

    def __init__(self, *, env: Mapping[str, str] | None = None,
                 list_serial_ports: Callable[[], Iterable] = list_ports.comports,
                 sysfs_root: Path = SYSFS_USB_DEVICES,
                 list_probes: Callable[[float, Mapping[str, str] | None], list[ProbeListing]] | None = None):
        self.env = dict(env) if env is not None else dict(os.environ)
        self._list_serial_ports = list_serial_ports
        self._sysfs_root = sysfs_root
        if list_probes is None:
            from hil.deploy.probe_rs_flasher import list_probes as probe_rs_list
            list_probes = probe_rs_list
        self._list_probes = list_probes

    def scan(self, with_probes: bool = True) -> Discovery:
        """Ports and USB devices always; `probe-rs list` only when asked (it takes a moment)."""
        discovery = Discovery(ports=self.serial_ports(), usb_devices=scan_sysfs_usb(self._sysfs_root))
        if with_probes:
            try:
                discovery.probes = self._list_probes(PROBE_LIST_TIMEOUT_S, self.env)
                discovery.probes_listed = True
            except ToolMissing:
                discovery.notes.append("probe-rs is not installed: debug probes are seen only as USB devices")
            except (ToolFailed, ToolTimeout) as error:
                discovery.notes.append(f"`probe-rs list` failed: {error}")
        return discovery

    def serial_ports(self) -> list[UsbSerialPort]:
        ports = []
        for info in self._list_serial_ports():
            ports.append(UsbSerialPort(device=info.device, vid=getattr(info, "vid", None),
                                       pid=getattr(info, "pid", None),
                                       serial_number=getattr(info, "serial_number", None) or None,
                                       location=getattr(info, "location", None),
                                       description=getattr(info, "description", "") or ""))
        return sorted(ports, key=lambda p: p.device)

