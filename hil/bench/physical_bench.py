"""The physical bench: real Picos named in a bench file, found by USB serial number, never by "first found".

A board is matched to a serial port by its USB serial number (narrowed by VID:PID when the file gives one), or
taken from a fixed `port:` (a path or an rfc2217:// URL). Several candidate ports, a Debug Probe's UART carrying
the serial number, a board sitting in BOOTSEL, or a board running the other runtime are each reported as such.

In BOOTSEL every RP2040 reports the USB serial E0C9125B0D9B, so there a board is found by its USB port path (the
bench file's `usb_port:`, or where the bench last saw it running) and confirmed by its flash id read with picotool
(bootsel_identity.py); with neither, a BOOTSEL device is never assumed to be a particular board.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from hil.bench.bench import AttachedBoard, Bench, ToolRequirement, port_identity
from hil.bench.bench_file import BenchConfig
from hil.bench.board_spec import BoardSpec, Runtime
from hil.bench.bootsel_identity import FlashIdReader, PicotoolFlashIdReader
from hil.bench.recovery import GPIOSET_INSTALL, UHUBCTL_INSTALL
from hil.bench.usb_discovery import Discovery, UsbDevice, UsbDiscovery, UsbSerialPort
from hil.bench.usb_ids import (
    KIND_DEBUG_PROBE, KIND_MICROPYTHON, KIND_OTHER, KIND_STDIO_USB, PICO_SERIAL_KINDS, RP2040_BOOTSEL_USB_SERIAL,
    is_shared_bootsel_serial, parse_vid_pid,
)
from hil.deadline import Deadline
from hil.errors import BoardNotFound, seconds_text

LOCATE_POLL_S = 0.1
# A Pico re-enumerating after a reset or a flash is back on USB well within this; a board absent for longer is not
# coming back by waiting, so a long step deadline is not spent waiting for it.
MISSING_GRACE_S = 10.0
REMOTE_PREFIXES = ("rfc2217://", "socket://", "loop://")

STATE_PRESENT = "present"
STATE_MISSING = "missing"
STATE_BOOTSEL = "bootsel"
STATE_AMBIGUOUS = "ambiguous"
STATE_WRONG_RUNTIME = "wrong-runtime"
STATE_REMOTE = "remote"          # reached over the network; not checked locally
STATE_UNLISTED = "unlisted"      # attached, but not in the bench file
# States in which the board's serial port can be used (a wrong runtime is fixed by provisioning).
USABLE_STATES = (STATE_PRESENT, STATE_REMOTE, STATE_WRONG_RUNTIME)

EXPECTED_KIND = {Runtime.MICROPYTHON: KIND_MICROPYTHON, Runtime.RUST: KIND_STDIO_USB}
KIND_WORDS = {KIND_MICROPYTHON: "MicroPython", KIND_STDIO_USB: "pico-sdk/Rust USB serial"}


@dataclass
class BoardMatch:
    """What the bench sees of one board at one moment."""

    state: str
    port: str | None = None
    vid_pid: str | None = None
    serial_number: str | None = None
    detail: str = ""
    usb_port: str | None = None      # USB port path of the device matched, when known


def _device_of(port: UsbSerialPort) -> str:
    """The USB device a port belongs to (ports of one composite device share it)."""
    return (port.location or port.device).split(":")[0]


def _same_serial(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.casefold() == b.casefold()


def match_bootsel(spec: BoardSpec, discovery: Discovery, known_usb_port: str | None = None,
                  flash_id_of: FlashIdReader | None = None) -> BoardMatch | None:
    """The board in BOOTSEL, if it is: by a serial of its own (chips whose boot ROM reports one), else by its USB
    port confirmed by the flash id where it can be read, else by flash id alone. None when not found; a match
    carries what the device reports (E0C9125B0D9B for an RP2040) and how it was recognised."""
    serial_number = spec.serial_number or ""
    bootsel = discovery.bootsel_devices()
    own = [d for d in bootsel if not is_shared_bootsel_serial(d.serial_number) and _same_serial(d.serial_number,
                                                                                              serial_number)]
    if own:
        return _bootsel_match(own[0], "by its serial number")
    usb_port = spec.usb_port or known_usb_port
    if usb_port:
        device = discovery.bootsel_device_at(usb_port)
        if device is None:
            return None
        flash_id = flash_id_of(device) if flash_id_of and serial_number else None
        if flash_id is None:
            return _bootsel_match(device, f"by its USB port {usb_port}")
        if _same_serial(flash_id, serial_number):
            return _bootsel_match(device, f"by its USB port {usb_port}, flash id {flash_id} confirmed")
        return BoardMatch(STATE_MISSING, None, None, serial_number,
                          f"the Pico in BOOTSEL on USB port {usb_port} has flash id {flash_id}, not {serial_number}: "
                          "another board is plugged into this board's port", usb_port)
    if flash_id_of and serial_number:
        for device in bootsel:
            if _same_serial(flash_id_of(device), serial_number):
                return _bootsel_match(device, f"by its flash id {serial_number}")
    return None


def _bootsel_match(device: UsbDevice, how: str) -> BoardMatch:
    return BoardMatch(STATE_BOOTSEL, None, device.vid_pid, device.serial_number,
                      f"in BOOTSEL at USB {device.bus_path} (recognised {how}): no serial port until it is "
                      "flashed or reset", device.bus_path)


def match_board(spec: BoardSpec, discovery: Discovery, known_usb_port: str | None = None,
                flash_id_of: FlashIdReader | None = None) -> BoardMatch:
    """Find `spec` among what is attached. `known_usb_port`: where the board was last seen running;
    `flash_id_of`: reads a BOOTSEL device's flash id (picotool), to confirm a board in BOOTSEL."""
    if spec.port:
        if spec.port.startswith(REMOTE_PREFIXES):
            return BoardMatch(STATE_REMOTE, spec.port, spec.vid_pid, spec.serial_number, "network port, not checked")
        if os.path.exists(spec.port):
            return BoardMatch(STATE_PRESENT, spec.port, spec.vid_pid, spec.serial_number, "fixed port")
        return BoardMatch(STATE_MISSING, None, spec.vid_pid, spec.serial_number, f"{spec.port} does not exist")
    serial_number = spec.serial_number or ""
    candidates = discovery.ports_with_serial(serial_number)
    if spec.vid_pid:
        vid, pid = parse_vid_pid(spec.vid_pid)
        candidates = [p for p in candidates if (p.vid, p.pid) == (vid, pid)]
    probe_ports = [p for p in candidates if p.kind == KIND_DEBUG_PROBE]
    board_ports = [p for p in candidates if p.kind != KIND_DEBUG_PROBE]
    if not board_ports:
        bootsel = match_bootsel(spec, discovery, known_usb_port, flash_id_of)
        if bootsel is not None:
            return bootsel
        if probe_ports:
            return BoardMatch(STATE_MISSING, None, None, serial_number,
                              f"serial number {serial_number} belongs to a Debug Probe ({probe_ports[0].device}), "
                              "not a Pico: put the probe's VID:PID:SERIAL under `probe:` and the Pico's own serial "
                              "number under `serial_number:`")
        unknown = [d for d in discovery.bootsel_devices() if is_shared_bootsel_serial(d.serial_number)]
        hint = ""
        if unknown:
            hint = (f"; {len(unknown)} Pico(s) in BOOTSEL at USB {', '.join(d.bus_path for d in unknown)} report the "
                    f"shared serial {RP2040_BOOTSEL_USB_SERIAL} and could be it: give the board's `usb_port:` in the "
                    "bench file, or install picotool 2.x to read their flash ids")
        return BoardMatch(STATE_MISSING, None, spec.vid_pid, serial_number,
                          f"no serial port with USB serial number {serial_number}"
                          + (f" and VID:PID {spec.vid_pid}" if spec.vid_pid else "") + hint)
    devices = sorted({_device_of(p) for p in board_ports})
    if len(devices) > 1:
        listed = ", ".join(p.device for p in board_ports)
        return BoardMatch(STATE_AMBIGUOUS, None, None, serial_number,
                          f"{len(devices)} devices have USB serial number {serial_number} ({listed}): give each "
                          "board a unique serial number (or a fixed `port:`) in the bench file")
    port = min(board_ports, key=lambda p: (p.interface_number is None, p.interface_number or 0, p.device))
    expected = EXPECTED_KIND[spec.runtime]
    if port.kind in PICO_SERIAL_KINDS and port.kind != expected:
        return BoardMatch(STATE_WRONG_RUNTIME, port.device, port.vid_pid, serial_number,
                          f"runs {KIND_WORDS[port.kind]} (USB {port.vid_pid}), bench says {spec.runtime}",
                          port.bus_path)
    detail = "" if port.kind == expected or port.kind == KIND_OTHER else f"USB {port.vid_pid}"
    return BoardMatch(STATE_PRESENT, port.device, port.vid_pid, serial_number, detail, port.bus_path)


def probe_status(spec: BoardSpec, discovery: Discovery) -> str:
    """'' if the board's probe is attached (or none is needed); otherwise what is wrong with it."""
    if not spec.probe:
        return ""
    parts = spec.probe.split(":", 2)
    vid, pid = int(parts[0], 16), int(parts[1], 16)
    serial_number = parts[2].casefold() if len(parts) == 3 else None

    def same(v: int, p: int, s: str | None) -> bool:
        return (v, p) == (vid, pid) and (serial_number is None or (s or "").casefold() == serial_number)

    if discovery.probes_listed:
        found = [probe for probe in discovery.probes if same(probe.vid, probe.pid, probe.serial_number)]
        if not found:
            listed = ", ".join(p.selector for p in discovery.probes) or "no probes"
            return f"probe {spec.probe} not attached (probe-rs lists: {listed})"
        return "probe inaccessible (USB permissions: install probe-rs's udev rules)" if found[0].inaccessible else ""
    if any(same(d.vid, d.pid, d.serial_number) for d in discovery.usb_devices) or \
            any(same(p.vid or 0, p.pid or 0, p.serial_number) for p in discovery.ports):
        return ""
    if discovery.usb_devices or discovery.ports:
        return f"probe {spec.probe} not attached"
    return ""


class PhysicalBench(Bench):
    """Real boards listed in a bench file."""

    def __init__(self, config: BenchConfig, discovery: UsbDiscovery | None = None,
                 flash_id_reader: FlashIdReader | None = None):
        self.name = config.name
        self.config = config
        self.specs = list(config.specs)
        self.discovery = discovery or UsbDiscovery(env=self.tool_env())
        self._read_flash_id = flash_id_reader or PicotoolFlashIdReader(env=self.tool_env())
        self._flash_ids: dict[tuple, str | None] = {}     # per enumeration (bus, address): a re-plug reads again
        self._usb_ports: dict[str, str] = {}              # board id -> USB port where it was last seen running

    def flash_id_of(self, device: UsbDevice) -> str | None:
        """The flash id of a BOOTSEL device, read once per enumeration."""
        key = (device.bus_path, device.busnum, device.devnum)
        if key not in self._flash_ids:
            self._flash_ids[key] = self._read_flash_id(device)
        return self._flash_ids[key]

    def match(self, spec: BoardSpec, discovery: Discovery, confirm_bootsel: bool = True) -> BoardMatch:
        """match_board with what this bench remembers, remembering where a running board sits."""
        match = match_board(spec, discovery, self._usb_ports.get(spec.board_id),
                            self.flash_id_of if confirm_bootsel else None)
        if match.port and match.usb_port:
            self._usb_ports[spec.board_id] = match.usb_port
        return match

    def usb_port_of(self, spec: BoardSpec) -> str | None:
        """Where the board is plugged in, running or in BOOTSEL, as far as the bench knows."""
        match = self.match(spec, self.discovery.scan(with_probes=False))
        return match.usb_port or spec.usb_port or self._usb_ports.get(spec.board_id)

    def tool_requirements(self) -> list[ToolRequirement]:
        methods = {spec.flash_method for spec in self.specs}
        tools = []
        if "probe-rs" in methods:
            tools.append(ToolRequirement("probe-rs", ["probe-rs", "--version"],
                                         "cargo install probe-rs-tools --locked (or the installer on probe.rs)"))
        # picotool also reads a BOOTSEL board's flash id, whatever flashes it
        if "picotool" in methods or "uf2" in methods:
            tools.append(ToolRequirement("picotool", ["picotool", "version"],
                                         "your distribution's picotool package (2.x), or build "
                                         "github.com/raspberrypi/picotool"))
        if any(spec.extra.get("power") for spec in self.specs):
            tools.append(ToolRequirement("uhubctl", ["uhubctl", "-v"], UHUBCTL_INSTALL))
        if any(spec.extra.get("reset") for spec in self.specs):
            tools.append(ToolRequirement("gpioset", ["gpioset", "--version"], GPIOSET_INSTALL))
        return tools

    def board_identity(self, spec: BoardSpec) -> str:
        """As any bench's, and a board named only by its port is keyed by the USB serial of the device on that port
        now: one bench file naming a Pico by serial and another by /dev/ttyACM0 still lock the same board."""
        if not spec.serial_number and spec.port and "://" not in spec.port:
            wanted = port_identity(spec.port)
            for port in self.discovery.scan(with_probes=False).ports:
                if port.serial_number and port_identity(port.device) == wanted:
                    return f"usb-serial:{port.serial_number.casefold()}"
        return super().board_identity(spec)

    def device_clock_domain(self, runtime: str) -> str:
        return "device"   # both runtimes time themselves on the Pico's own 1 MHz timer

    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        """The board's port now. Waits (polling, never opening ports) for a board that is absent or in BOOTSEL,
        e.g. re-enumerating after a reset; an ambiguous match fails at once."""
        deadline = Deadline(timeout_s)
        where = f" (bench file {spec.source})" if spec.source else ""
        detail = ""
        missing_since: float | None = None

        def usable_port() -> str | None:
            nonlocal detail, missing_since
            # no picotool while polling: a board in BOOTSEL has no port to return anyway
            match = self.match(spec, self.discovery.scan(with_probes=False), confirm_bootsel=False)
            if match.state == STATE_AMBIGUOUS:
                raise BoardNotFound(spec.board_id, match.detail)
            detail = match.detail
            missing_since = (missing_since or time.monotonic()) if match.state == STATE_MISSING else None
            if missing_since is not None and time.monotonic() - missing_since >= MISSING_GRACE_S:
                raise BoardNotFound(spec.board_id, f"{match.detail}; not on USB for {MISSING_GRACE_S:g} s, longer "
                                                   f"than a Pico takes to re-enumerate (is it plugged in?){where}")
            return match.port if match.state in USABLE_STATES and match.port else None

        port = deadline.poll(usable_port, LOCATE_POLL_S)
        if port is None:
            raise BoardNotFound(spec.board_id, f"{detail}; waited {seconds_text(timeout_s)} s{where}")
        return port

    def attached(self) -> list[AttachedBoard]:
        discovery = self.discovery.scan(with_probes=True)
        rows = []
        claimed_ports: set[str] = set()
        claimed_bootsel: set[str] = set()
        for spec in self.specs:
            match = self.match(spec, discovery)
            if match.state == STATE_BOOTSEL and match.usb_port:
                claimed_bootsel.add(match.usb_port)
            details = [d for d in (match.detail, probe_status(spec, discovery)) if d]
            if match.port:
                claimed_ports.add(match.port)
            rows.append(AttachedBoard(spec.board_id, spec.runtime, match.port, match.vid_pid,
                                      match.serial_number, match.state, "; ".join(details)))
        rows += self._unlisted(discovery, claimed_ports, claimed_bootsel)
        return rows

    def _unlisted(self, discovery: Discovery, claimed_ports: set[str],
                  claimed_bootsel: set[str]) -> list[AttachedBoard]:
        """Picos, BOOTSEL devices and probes that are attached but not in the bench file."""
        known_serials = {s.serial_number.casefold() for s in self.specs if s.serial_number}
        known_probes = {s.probe.casefold() for s in self.specs if s.probe}
        rows = []
        for port in discovery.pico_ports():
            if port.device not in claimed_ports and (port.serial_number or "").casefold() not in known_serials:
                runtime = Runtime.MICROPYTHON if port.kind == KIND_MICROPYTHON else Runtime.RUST
                rows.append(AttachedBoard("-", runtime, port.device, port.vid_pid, port.serial_number,
                                          STATE_UNLISTED, f"{KIND_WORDS[port.kind]}, not in the bench file"))
        for device in discovery.bootsel_devices():
            if device.bus_path not in claimed_bootsel and (device.serial_number or "").casefold() not in known_serials:
                rows.append(AttachedBoard("-", "-", None, device.vid_pid, device.serial_number, STATE_UNLISTED,
                                          "a Pico in BOOTSEL, not in the bench file"))
        for probe in discovery.probes:
            if probe.selector.casefold() not in known_probes:
                rows.append(AttachedBoard("-", "-", None, probe.vid_pid, probe.serial_number, STATE_UNLISTED,
                                          f"debug probe {probe.name} (probe: {probe.selector})"))
        rows += [AttachedBoard("-", "-", None, None, None, "note", note) for note in discovery.notes]
        return rows
