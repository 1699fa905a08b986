"""The RPI-RP2 mass-storage volume of each simulated Rust board in BOOTSEL: a folder `SIM_DIR/volumes/<board>`
holding the boot ROM's INFO_UF2.TXT while the board is in BOOTSEL. A complete UF2 file written into it is loaded
into the board's flash and started, then removed, and the folder goes away, as the boot ROM reboots into the new
image and the volume disappears. SimBench points the UF2 copy flasher at `SIM_DIR/volumes` (HIL_UF2_MOUNT_ROOTS).
"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Callable, Mapping

VOLUMES_DIR = "volumes"
INFO_UF2 = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"   # what the RP2040 boot ROM serves
UF2_BLOCK_BYTES = 512
UF2_MAGIC = (0x0A324655, 0x9E5D5157)
POLL_INTERVAL_S = 0.1


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
        self.boards = boards
        self.log = log
        self._loading: set[str] = set()

    def poll(self) -> None:
        for board_id, board in self.boards.items():
            if board.config.runtime != "rust":
                continue
            folder = self.root / board_id
            if board.state != "bootsel" or board.process_state != "ready":
                if folder.exists() and board_id not in self._loading:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            if not folder.exists():
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "INFO_UF2.TXT").write_text(INFO_UF2)
                (folder / "INDEX.HTM").write_text("<html><body>RPI-RP2 (simulated)</body></html>\n")
            if board_id in self._loading:
                continue
            for image in sorted(folder.glob("*.uf2")) + sorted(folder.glob("*.UF2")):
                if uf2_complete(image):
                    self._load(board_id, board, image)
                    break

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
