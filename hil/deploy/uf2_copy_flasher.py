"""Flashing by copying a UF2 file to the RPI-RP2 mass-storage volume, for benches with neither probe-rs nor
picotool.

The board must be in BOOTSEL (held at power-up, or sent there by a 1200-baud touch). The RP2040 boot ROM
writes the blocks as they arrive and starts the new image after the last one; there is no read-back verify.
The volume is found by the board's USB serial number where the OS exposes it (Linux /dev/disk/by-id), otherwise
by its label among mounted volumes; two unidentifiable RPI-RP2 volumes are an error, never a guess.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping

from hil.deadline import Deadline
from hil.deploy.baud_touch import touch_1200_baud
from hil.deploy.flasher import KIND_ELF, KIND_UF2, Flasher, FlashReport, ProgressCallback, image_kind
from hil.deploy.tool_output import Progress
from hil.errors import ProvisionError

VOLUME_LABEL = "RPI-RP2"
INFO_FILE = "INFO_UF2.TXT"
BOARD_ID_LINE = "Board-ID: RPI-RP2"
BY_ID_DIR = Path("/dev/disk/by-id")
BY_ID_PREFIX = "usb-RPI_RP2_"          # udev's name for the boot ROM's disk: usb-RPI_RP2_<serial>-0:0
PROC_MOUNTS = Path("/proc/mounts")
VOLUME_POLL_S = 0.2
VOLUME_APPEAR_TIMEOUT_S = 10.0        # the volume is mounted ~1.4 s after a reboot into BOOTSEL, more on slow hosts
COPY_CHUNK_BYTES = 64 * 1024
MOUNT_ROOTS_ENV = "HIL_UF2_MOUNT_ROOTS"  # os.pathsep-separated folders holding mounted volumes


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


def _mount_point_of(device: Path, mounts_text: str) -> Path | None:
    """Where the block device (or one of its partitions) is mounted, from /proc/mounts text."""
    real = str(device.resolve())
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith(real):
            return Path(fields[1].replace("\\040", " "))
    return None


class Uf2CopyFlasher(Flasher):
    name = "uf2-copy"
    image_suffixes = (".uf2", ".elf")
    image_kinds = (KIND_UF2, KIND_ELF)   # an ELF is converted to UF2 first

    def __init__(self, board_id: str, serial_number: str | None = None, *,
                 env: Mapping[str, str] | None = None, mount_roots: Iterable[Path] | None = None,
                 port_finder: Callable[[float], str] | None = None):
        super().__init__(board_id, env)
        self.serial_number = serial_number
        self.mount_roots = list(mount_roots) if mount_roots is not None else default_mount_roots(
            self.env if self.env is not None else os.environ)
        self.port_finder = port_finder   # to send the board into BOOTSEL with a 1200-baud touch

    def find_volume(self) -> Path | None:
        """The RPI-RP2 volume of this board if mounted now; ProvisionError if several could be it."""
        if self.serial_number and BY_ID_DIR.is_dir():
            for entry in BY_ID_DIR.iterdir():
                if entry.name.startswith(f"{BY_ID_PREFIX}{self.serial_number}"):
                    try:
                        mounted = _mount_point_of(entry, PROC_MOUNTS.read_text())
                    except OSError:
                        mounted = None
                    if mounted and is_rp2_volume(mounted):
                        return mounted
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
        while True:
            volume = self.find_volume()
            if volume is not None:
                return volume
            if deadline.expired:
                roots = ", ".join(map(str, self.mount_roots))
                raise ProvisionError(self.board_id, f"no {VOLUME_LABEL} volume appeared within "
                                     f"{deadline.timeout_s:g} s under {roots}: put the board in BOOTSEL "
                                     f"(hold BOOTSEL while plugging it in) and make sure the volume is mounted")
            time.sleep(min(VOLUME_POLL_S, deadline.remaining_s))

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

