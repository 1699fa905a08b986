"""The RPI-RP2 mass-storage volume of each simulated Rust board in BOOTSEL: a folder `SIM_DIR/volumes/<board>`
holding the boot ROM's INFO_UF2.TXT while the board is in BOOTSEL. A complete UF2 file written into it is loaded
into the board's flash and started, then removed, and the folder goes away, as the boot ROM reboots into the new
image and the volume disappears. SimBench points the UF2 copy flasher at `SIM_DIR/volumes` (HIL_UF2_MOUNT_ROOTS).

Every RP2040 in BOOTSEL has the same USB serial, so a host tells their drives apart by USB port path, as Linux shows
it: `SIM_DIR/sys/block/<disk>` links to a device path through the board's hub port (`1-1.N`, the N-th board of the
supervisor's list, as the simulated uhubctl numbers them) and `SIM_DIR/mounts` lists where each disk is mounted, in
/proc/mounts format (SimBench passes both to the flasher: HIL_UF2_SYS_BLOCK, HIL_UF2_PROC_MOUNTS).
"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Callable, Mapping

VOLUMES_DIR = "volumes"
SYS_BLOCK_DIR = "sys/block"
MOUNTS_FILE = "mounts"
HUB = "1-1"                # the simulated hub's location (power_standins.py): board N is on its port N (from 1)
INFO_UF2 = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"   # what the RP2040 boot ROM serves
UF2_BLOCK_BYTES = 512
UF2_MAGIC = (0x0A324655, 0x9E5D5157)
POLL_INTERVAL_S = 0.1


def usb_port_path(board_index: int) -> str:
    """The USB port path of the supervisor's `board_index`-th board (from 0): `1-1.<index + 1>`."""
    return f"{HUB}.{board_index + 1}"


def disk_name(board_index: int) -> str:
    return "sd" + "abcdefghijklmnopqrstuvwxyz"[board_index % 26] * (1 + board_index // 26)


def uf2_complete(path: Path) -> bool:
    """True once every block of the UF2 file is there (the boot ROM starts the image after the last one)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if not data or len(data) % UF2_BLOCK_BYTES:
        return False
    magic0, magic1 = struct.unpack_from("<II", data, 0)
    total_blocks, = struct.unpack_from("<I", data, 24)
    last_block, = struct.unpack_from("<I", data, len(data) - UF2_BLOCK_BYTES + 20)
    return (magic0, magic1) == UF2_MAGIC and len(data) // UF2_BLOCK_BYTES == total_blocks == last_block + 1


class Uf2Volumes:
    """Keeps one volume folder per Rust board in BOOTSEL, and loads what is copied into it."""

    def __init__(self, root: Path, boards: Mapping, log: Callable[[str], None]):
        self.root = Path(root)
        self.sys_root = self.root.parent / "sys"
        self.mounts_file = self.root.parent / MOUNTS_FILE
        self.boards = boards
        self.log = log
        self._loading: set[str] = set()
        self._mounted: dict[str, Path] = {}       # disk name -> its volume folder, as written to the mounts file
        (self.root.parent / SYS_BLOCK_DIR).mkdir(parents=True, exist_ok=True)
        self._write_mounts()

    def poll(self) -> None:
        mounted: dict[str, Path] = {}
        for index, (board_id, board) in enumerate(self.boards.items()):
            if board.config.runtime != "rust":
                continue
            folder = self.root / board_id
            if board.state != "bootsel" or board.process_state != "ready":
                if folder.exists() and board_id not in self._loading:
                    shutil.rmtree(folder, ignore_errors=True)
                if board_id not in self._loading:
                    self._unplug(disk_name(index))
                continue
            if not folder.exists():
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "INFO_UF2.TXT").write_text(INFO_UF2)
                (folder / "INDEX.HTM").write_text("<html><body>RPI-RP2 (simulated)</body></html>\n")
                self._plug(disk_name(index), usb_port_path(index))
            mounted[disk_name(index)] = folder
            if board_id in self._loading:
                continue
            for image in sorted(folder.glob("*.uf2")) + sorted(folder.glob("*.UF2")):
                if uf2_complete(image):
                    self._load(board_id, board, image)
                    break
        if mounted != self._mounted:
            self._mounted = mounted
            self._write_mounts()

    def _plug(self, disk: str, usb_port: str) -> None:
        """The disk's sysfs entry, linking to a device path through the board's USB port, as Linux shows it."""
        device = self.sys_root / "devices" / "usb1" / HUB / usb_port / f"{usb_port}:1.0" / "host0" / "block" / disk
        device.mkdir(parents=True, exist_ok=True)
        link = self.root.parent / SYS_BLOCK_DIR / disk
        if not link.is_symlink():
            link.symlink_to(device)

    def _unplug(self, disk: str) -> None:
        (self.root.parent / SYS_BLOCK_DIR / disk).unlink(missing_ok=True)

    def _write_mounts(self) -> None:
        text = "".join(f"/dev/{disk} {str(folder).replace(' ', chr(92) + '040')} vfat rw,nosuid,nodev 0 0\n"
                       for disk, folder in sorted(self._mounted.items()))
        scratch = self.mounts_file.with_suffix(".new")
        scratch.write_text(text)
        scratch.replace(self.mounts_file)     # readers never see half a file

    def _load(self, board_id: str, board, image: Path) -> None:
        self._loading.add(board_id)
        self.log(f"{board_id}: {image.name} copied to its RPI-RP2 volume")

        def loaded(reply: dict) -> None:
            if not reply.get("ok"):
                self.log(f"{board_id}: the copied UF2 was refused: {reply.get('error')}")
                image.unlink(missing_ok=True)
                self._loading.discard(board_id)
                return
            board.request({"cmd": "run"}, started)

        def started(_reply: dict) -> None:
            shutil.rmtree(image.parent, ignore_errors=True)   # the boot ROM reboots: the volume goes away
            self._loading.discard(board_id)

        board.request({"cmd": "load", "path": str(image), "format": "uf2"}, loaded)
