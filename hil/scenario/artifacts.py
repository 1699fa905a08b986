"""What scenarios deploy: Rust firmware built from firmware_rust/, MicroPython files from scripts_micropython/.

Firmware is built once per process (the build itself is incremental and cached on disk). An "edit" — for the
deploy-time claims, which measure edit → running — changes a build input without touching the project's files:
for Rust an edit stamp compiled into the firmware, for MicroPython a generated module copied with the scripts.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from hil.board.rust_board import FirmwareImage
from hil.deploy.micropython_deployer import files_in_folder
from hil.errors import ConfigError

BUILD_TIMEOUT_S = 1800.0
EDIT_MODULE = "edit_stamp.py"


class Artifacts:
    def __init__(self, project_root: Path, progress: Callable[[str], None] | None = None):
        self.project_root = Path(project_root)
        self.progress = progress
        self._firmware: dict[str, FirmwareImage] = {}
        # Made on the first edit only, and removed when the Artifacts is collected or the process exits.
        self._edit_dir: tempfile.TemporaryDirectory | None = None
        self._edits = 0

    def _build(self, name: str, edit_stamp: str | None) -> tuple[FirmwareImage, bool]:
        from hil.deploy.firmware_build import build_firmware
        result = build_firmware(name=name, timeout_s=BUILD_TIMEOUT_S, progress=self.progress,
                                edit_stamp=edit_stamp)
        image = FirmwareImage(elf_path=Path(result.elf_path), uf2_path=Path(result.uf2_path),
                              build_id=result.build_id, name=name)
        return image, result.rebuilt

    def firmware(self, name: str) -> FirmwareImage:
        """The current build of firmware `name` (built if needed)."""
        if name not in self._firmware:
            self._firmware[name] = self._build(name, None)[0]
        return self._firmware[name]

    def build(self, name: str, edit: bool = False) -> tuple[FirmwareImage, float, bool]:
        """Build `name` (after an edit if asked); returns the image, the host seconds it took, and if it rebuilt."""
        start = time.monotonic()
        stamp = self._next_stamp() if edit else None
        image, rebuilt = self._build(name, stamp)
        self._firmware[name] = image
        return image, time.monotonic() - start, rebuilt

    def _next_stamp(self) -> str:
        self._edits += 1
        return f"{int(time.time())}-{self._edits}"

    def deploy_files(self, entries: list[str], edit: bool = False) -> list[tuple[Path, str]]:
        """(local file, board path) pairs: a folder's files go to the board's root keeping sub-folders."""
        pairs: list[tuple[Path, str]] = []
        for entry in entries:
            source = (self.project_root / entry).resolve()
            if source.is_dir():
                for file in (p for p in files_in_folder(source, within=self.project_root) if _deployable(p)):
                    pairs.append((file, "/" + file.relative_to(source).as_posix()))
            elif source.is_file():
                pairs.append((source, "/" + source.name))
            else:
                raise ConfigError(entry, None, "deploy", "no such file or folder")
        if edit:
            if self._edit_dir is None:
                self._edit_dir = tempfile.TemporaryDirectory(prefix="hil-edit-")
            stamp_file = Path(self._edit_dir.name) / EDIT_MODULE
            stamp_file.write_text(f"STAMP = {self._next_stamp()!r}\n", encoding="utf-8")
            pairs.append((stamp_file, "/" + EDIT_MODULE))
        return pairs


def _deployable(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix in (".py", ".mpy", ".txt", ".json", ".bin")
