"""Flashing by copying a UF2 file to the RPI-RP2 mass-storage volume, for benches with neither probe-rs nor
picotool.

The board must be in BOOTSEL (held at power-up, or sent there by a 1200-baud touch). The RP2040 boot ROM
writes the blocks as they arrive and starts the new image after the last one; there is no read-back verify.
In BOOTSEL every RP2040 reports the same USB serial number (E0C9125B0D9B), so the volume cannot be found by it. It
is found by the board's USB port path: the block device whose sysfs path runs through that port (Linux), mounted
where /proc/mounts says. Where the port is unknown or the OS has no sysfs, by its INFO_UF2.TXT among mounted volumes;
two RPI-RP2 volumes that cannot be told apart are an error, never a guess.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping

from hil.deadline import Deadline
from hil.deploy.baud_touch import touch_1200_baud
from hil.deploy.flasher import KIND_ELF, KIND_UF2, Flasher, FlashReport, ProgressCallback, image_kind
from hil.deploy.tool_output import Progress
from hil.errors import ProvisionError, seconds_text

VOLUME_LABEL = "RPI-RP2"
INFO_FILE = "INFO_UF2.TXT"
BOARD_ID_LINE = "Board-ID: RPI-RP2"
SYS_BLOCK = Path("/sys/block")        # each disk links to its device path, which names the USB port it hangs off
PROC_MOUNTS = Path("/proc/mounts")
VOLUME_POLL_S = 0.2
VOLUME_APPEAR_TIMEOUT_S = 10.0        # the volume is mounted ~1.4 s after a reboot into BOOTSEL, more on slow hosts
COPY_CHUNK_BYTES = 64 * 1024
MOUNT_ROOTS_ENV = "HIL_UF2_MOUNT_ROOTS"  # os.pathsep-separated folders holding mounted volumes
SYS_BLOCK_ENV = "HIL_UF2_SYS_BLOCK"      # another /sys/block and /proc/mounts (the simulated bench's)
PROC_MOUNTS_ENV = "HIL_UF2_PROC_MOUNTS"


def default_mount_roots(env: Mapping[str, str]) -> list[Path]:
    """Where desktop systems mount removable volumes, or what HIL_UF2_MOUNT_ROOTS says."""
    if env.get(MOUNT_ROOTS_ENV):
        return [Path(p) for p in env[MOUNT_ROOTS_ENV].split(os.pathsep) if p]
    user = env.get("USER") or env.get("LOGNAME") or ""
    return [Path("/media") / user, Path("/run/media") / user, Path("/media"), Path("/Volumes"), Path("/mnt")]


def is_rp2_volume(folder: Path) -> bool:
    try:
        return BOARD_ID_LINE in (folder / INFO_FILE).read_text(errors="replace")
    except OSError:
        return False


def disks_on_usb_port(usb_port: str, sys_block: Path = SYS_BLOCK) -> list[str]:
    """Names of the disks ("sdb") whose device path runs through USB port `usb_port` ("1-1.2")."""
    disks = []
    try:
        entries = sorted(sys_block.iterdir())
    except OSError:
        return disks
    for entry in entries:
        # /sys/block/sdb -> ../devices/pci0000:00/.../usb1/1-1/1-1.2/1-1.2:1.0/host3/.../block/sdb
        parts = Path(os.path.realpath(entry)).parts
        if usb_port in parts:
            disks.append(entry.name)
    return disks


def mount_points_of(disk: str, mounts_text: str) -> list[Path]:
    """Where disk `disk` ("sdb") or one of its partitions ("sdb1") is mounted, from /proc/mounts text."""
    found = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            name = fields[0].rsplit("/", 1)[-1]
            suffix = name[len(disk):] if name.startswith(disk) else None
            if fields[0].startswith("/dev/") and suffix is not None and (suffix == "" or suffix.isdigit()):
                found.append(Path(fields[1].replace("\\040", " ")))
    return found


class Uf2CopyFlasher(Flasher):
    name = "uf2-copy"
    image_suffixes = (".uf2", ".elf")
    image_kinds = (KIND_UF2, KIND_ELF)   # an ELF is converted to UF2 first

    def __init__(self, board_id: str, serial_number: str | None = None, *,
                 env: Mapping[str, str] | None = None, mount_roots: Iterable[Path] | None = None,
                 port_finder: Callable[[float], str] | None = None,
                 usb_port_finder: Callable[[], str | None] | None = None,
                 sys_block: Path | None = None, proc_mounts: Path | None = None):
        super().__init__(board_id, env)
        self.serial_number = serial_number
        self.usb_port_finder = usb_port_finder   # the board's USB port path now, if the bench knows it
        environment = self.env if self.env is not None else os.environ
        self.sys_block = sys_block or Path(environment.get(SYS_BLOCK_ENV) or SYS_BLOCK)
        self.proc_mounts = proc_mounts or Path(environment.get(PROC_MOUNTS_ENV) or PROC_MOUNTS)
        self.mount_roots = list(mount_roots) if mount_roots is not None else default_mount_roots(environment)
        self.port_finder = port_finder   # to send the board into BOOTSEL with a 1200-baud touch

    def find_volume(self) -> Path | None:
        """The RPI-RP2 volume of this board if mounted now; ProvisionError if several could be it."""
        usb_port = self.usb_port_finder() if self.usb_port_finder else None
        if usb_port and self.sys_block.is_dir():
            return self._volume_on_port(usb_port)
        candidates: list[Path] = []
        for root in self.mount_roots:
            if is_rp2_volume(root):
                candidates.append(root)
                continue
            try:
                children = sorted(p for p in root.iterdir() if p.is_dir())
            except OSError:
                continue
            candidates += [child for child in children if is_rp2_volume(child)]
        unique = list(dict.fromkeys(p.resolve() for p in candidates))
        if len(unique) > 1:
            raise ProvisionError(self.board_id, f"{len(unique)} {VOLUME_LABEL} volumes are mounted "
                                 f"({', '.join(map(str, unique))}) and none can be told apart by serial number; "
                                 "leave only this board in BOOTSEL")
        return unique[0] if unique else None

    def _volume_on_port(self, usb_port: str) -> Path | None:
        """The RPI-RP2 volume of the disk on USB port `usb_port`: None until it is there and mounted."""
        try:
            mounts_text = self.proc_mounts.read_text()
        except OSError:
            return None
        for disk in disks_on_usb_port(usb_port, self.sys_block):
            for mounted in mount_points_of(disk, mounts_text):
                if is_rp2_volume(mounted):
                    return mounted
        return None

    def flash(self, image_path: str | Path, timeout_s: float,
              progress: ProgressCallback | None = None) -> FlashReport:
        image = self._check_image(image_path)
        with tempfile.TemporaryDirectory(prefix="hil-uf2-") as scratch:
            if image_kind(image) == KIND_ELF:
                from hil.deploy.uf2 import write_uf2
                image = write_uf2(image, Path(scratch) / f"{image.stem}.uf2")
            return self._flash_uf2(image, timeout_s, progress)

    def _flash_uf2(self, image: Path, timeout_s: float, progress: ProgressCallback | None) -> FlashReport:
        deadline = Deadline(timeout_s)
        report = self._start_report(image, deadline)
        volume = self.find_volume()
        if volume is None and self.port_finder is not None:
            port = self.port_finder(deadline.remaining_s)
            touch_1200_baud(port, self.board_id)
            report.steps.append(f"1200-baud touch on {port}")
        volume = volume or self._wait_for_volume(deadline.sub(VOLUME_APPEAR_TIMEOUT_S))
        target = volume / image.name
        report.steps.append(f"copy {image} -> {target}")
        self._copy(image, target, deadline, progress)
        report.reset_done = True   # the boot ROM starts the image after the last block
        report.elapsed_s = deadline.elapsed_s
        return report

    def reset(self, timeout_s: float) -> None:
        raise ProvisionError(self.board_id, "a UF2 copy cannot reset a running board; reset it by hand or "
                             "configure flash: picotool or probe-rs for this board")

    def _wait_for_volume(self, deadline: Deadline) -> Path:
        volume = deadline.poll(self.find_volume, VOLUME_POLL_S)
        if volume is None:
            roots = ", ".join(map(str, self.mount_roots))
            raise ProvisionError(self.board_id, f"no {VOLUME_LABEL} volume appeared within "
                                 f"{seconds_text(deadline.timeout_s)} s under {roots}: put the board in BOOTSEL "
                                 f"(hold BOOTSEL while plugging it in) and make sure the volume is mounted")
        return volume

    def _copy(self, image: Path, target: Path, deadline: Deadline, progress: ProgressCallback | None) -> None:
        size_bytes = image.stat().st_size
        copied_bytes = 0
        try:
            with image.open("rb") as source, target.open("wb") as sink:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    deadline.check(f"copying {image.name} to {target.parent}")
                    sink.write(chunk)
                    copied_bytes += len(chunk)
                    if progress:
                        progress(Progress("Copying to RPI-RP2", copied_bytes * 100 // max(size_bytes, 1)))
                sink.flush()
                os.fsync(sink.fileno())
        except OSError as error:
            # the boot ROM may reboot as soon as the last block lands, taking the volume away mid-close
            if copied_bytes < size_bytes:
                raise ProvisionError(self.board_id, f"copy to {target} failed after {copied_bytes} of "
                                     f"{size_bytes} bytes: {error}") from error

