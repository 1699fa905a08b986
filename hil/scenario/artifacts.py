"""What scenarios and board fixtures deploy: Rust firmware and MicroPython files, named by path in the project.

A firmware reference is, relative to the project root (or absolute): a cargo package folder (built for the Pico
with the build store of hil/deploy/firmware_build.py: same cache, same build id), an ELF file, a UF2 file, or a
binary name of the project's own firmware_rust/ workspace (this repository's `lesson`). Deploy entries are files
or folders of the project.

Firmware is built once per process (the build itself is incremental and cached on disk). An "edit" — for the
deploy-time claims, which measure edit → running — changes a build input without touching the project's files:
for Rust an edit stamp compiled into the firmware, for MicroPython a generated module copied with the scripts.

What is handed to a flasher or a deployer never changes afterwards: firmware comes from the build store (one
read-only folder per build id, see hil/deploy/firmware_build.py), and a MicroPython file list points into a
private snapshot of those files (one read-only folder per content hash, edit stamp included), so editing a script
or making the next edit cannot change a deploy already planned from an earlier list.
"""
from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from hil.deploy.firmware_image import FirmwareImage
from hil.deploy.micropython_deployer import plan_files
from hil.errors import ConfigError

BUILD_TIMEOUT_S = 1800.0
EDIT_MODULE = "edit_stamp.py"
READ_ONLY_MODE = 0o444


class Artifacts:
    def __init__(self, project_root: Path, progress: Callable[[str], None] | None = None):
        self.project_root = Path(project_root)
        self.progress = progress
        self._firmware: dict[tuple[str, tuple[str, ...]], FirmwareImage] = {}
        self._snapshot_folder: Path | None = None   # made on the first deploy list only
        self._snapshot_lock = threading.Lock()
        self._edits = 0

    def _snapshot_root(self) -> Path:
        with self._snapshot_lock:
            if self._snapshot_folder is None:
                self._snapshot_folder = Path(tempfile.mkdtemp(prefix="hil-deploy-"))
                # lists handed out may outlive this object: the snapshots go when the process ends
                atexit.register(shutil.rmtree, str(self._snapshot_folder), True)
            return self._snapshot_folder

    def _build(self, name: str, edit_stamp: str | None, features: tuple[str, ...]) -> tuple[FirmwareImage, bool]:
        from hil.deploy.firmware_build import build_firmware, firmware_dir
        kind, location = self._locate(name)
        if kind != "cargo":
            if edit_stamp is not None:
                raise ConfigError(name, None, "firmware", "an edit needs firmware built from source (a cargo "
                                                          "package), not a prebuilt image")
            if features:
                raise ConfigError(name, None, "firmware", "cargo features need firmware built from source")
            return self._prebuilt(kind, location), False
        package = location is not None and cargo_package_name(location)
        own = not package and (firmware_dir(self.project_root) / "Cargo.toml").is_file()
        result = build_firmware(name=package or name, timeout_s=BUILD_TIMEOUT_S, progress=self.progress,
                                edit_stamp=edit_stamp, features=features, source_dir=location if package else None,
                                project_root=self.project_root if own else None)
        return result.image, result.rebuilt

    def _locate(self, reference: str) -> tuple[str, Path | None]:
        """("cargo", package folder | None for a binary of firmware_rust/), ("elf" | "uf2", file)."""
        path = (self.project_root / reference)
        if path.is_dir():
            if not (path / "Cargo.toml").is_file():
                raise ConfigError(reference, None, "firmware", f"{path} is a folder without Cargo.toml")
            return "cargo", path.resolve()
        if path.is_file():
            return ("uf2" if path.suffix.lower() == ".uf2" else "elf"), path.resolve()
        from hil.deploy.firmware_build import firmware_dir
        if "/" not in reference and (firmware_dir(self.project_root) / "Cargo.toml").is_file():
            return "cargo", None
        if "/" not in reference and (firmware_dir() / "Cargo.toml").is_file():
            return "cargo", None   # a source checkout of this package: its own firmware_rust/ (as before)
        raise ConfigError(reference, None, "firmware", f"no such ELF, UF2 or cargo package folder "
                                                       f"(relative to {self.project_root})")

    def _prebuilt(self, kind: str, path: Path) -> FirmwareImage:
        """A private read-only copy of a prebuilt image (later rebuilds of the file cannot change a planned
        flash), with its build id read from the image; an ELF gets a UF2 beside it."""
        from hil.deploy.build_id import patch_build_id
        from hil.deploy.uf2 import write_uf2
        contents = path.read_bytes()
        folder = self._snapshot_root() / ("image-" + hashlib.sha256(contents).hexdigest()[:16])
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self._snapshot_root()))
            copy = staging / path.name
            copy.write_bytes(contents)
            if kind == "elf":
                patch_build_id(copy)   # BuildIdSlotMissing names the file when it has no build id slot
                write_uf2(copy, staging / (path.stem + ".uf2")).chmod(READ_ONLY_MODE)
            copy.chmod(READ_ONLY_MODE)
            try:
                staging.rename(folder)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        copy = folder / path.name
        if kind == "uf2":
            return FirmwareImage(elf_path=None, uf2_path=copy, build_id=_uf2_build_id(copy), name=path.stem)
        from hil.deploy.build_id import embedded_build_id
        from hil.deploy.elf_image import ElfImage
        return FirmwareImage(elf_path=copy, uf2_path=folder / (path.stem + ".uf2"),
                             build_id=embedded_build_id(ElfImage.read(copy)), name=path.stem)

    def firmware(self, name: str, features: tuple[str, ...] = ()) -> FirmwareImage:
        """The current build of firmware `name` with cargo `features` (built if needed)."""
        key = (name, tuple(sorted(features)))
        if key not in self._firmware:
            self._firmware[key] = self._build(name, None, key[1])[0]
        return self._firmware[key]

    def build(self, name: str, edit: bool = False, features: tuple[str, ...] = ()) -> tuple[FirmwareImage, float, bool]:
        """Build `name` (after an edit if asked); returns the image, the host seconds it took, and if it rebuilt."""
        start = time.monotonic()
        stamp = self._next_stamp() if edit else None
        key = (name, tuple(sorted(features)))
        image, rebuilt = self._build(name, stamp, key[1])
        self._firmware[key] = image
        return image, time.monotonic() - start, rebuilt

    def _next_stamp(self) -> str:
        self._edits += 1
        return f"{int(time.time())}-{self._edits}"

    def deploy_files(self, entries: list[str], edit: bool = False) -> list[tuple[Path, str]]:
        """(local file, board path) pairs, chosen as `hil deploy` chooses them (one planner: plan_files): a
        folder's files go to the board's root keeping sub-folders, a file to the root.

        The local files are a private read-only snapshot of the sources (and of a new edit stamp module if
        `edit`), so the list stays valid whatever changes later."""
        sources = []
        for entry in entries:
            source = (self.project_root / entry).resolve()
            if not source.exists():
                raise ConfigError(entry, None, "deploy", "no such file or folder")
            sources.append(source)
        # a link in a deploy folder may lead anywhere in the project, never outside it
        planned = plan_files(sources, dest="/", within=self.project_root)
        contents = {board_path: local.read_bytes() for local, board_path in planned}
        if edit:
            contents["/" + EDIT_MODULE] = f"STAMP = {self._next_stamp()!r}\n".encode()
        snapshot = self._snapshot(contents)
        return [(snapshot / board_path.lstrip("/"), board_path) for board_path in contents]

    @staticmethod
    def is_edit_module(board_path: str) -> bool:
        """Is this board path the module an edit generates?"""
        return board_path == "/" + EDIT_MODULE

    def _snapshot(self, contents: dict[str, bytes]) -> Path:
        """The folder holding exactly `contents`, named by their hash; written once, then only read."""
        digest = hashlib.sha256()
        for board_path in sorted(contents):
            digest.update(board_path.encode() + b"\0" + hashlib.sha256(contents[board_path]).digest())
        root = self._snapshot_root()
        folder = root / digest.hexdigest()[:16]
        if folder.is_dir():
            return folder
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        for board_path, data in contents.items():
            local = staging / board_path.lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(data)
            local.chmod(READ_ONLY_MODE)
        try:
            staging.rename(folder)
        except OSError:             # another thread stored the same content first: keep that one
            shutil.rmtree(staging, ignore_errors=True)
            if not folder.is_dir():
                raise
        return folder


def cargo_package_name(folder: Path) -> str:
    """The package (and default binary) name in `folder`/Cargo.toml; a workspace root has none."""
    import tomllib
    try:
        manifest = tomllib.loads((folder / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(str(folder / "Cargo.toml"), None, "package", f"unreadable: {error}") from None
    name = manifest.get("package", {}).get("name")
    if not isinstance(name, str):
        raise ConfigError(str(folder / "Cargo.toml"), None, "package",
                          "no [package] name (a workspace root? name the firmware package's own folder)")
    return name


def _uf2_build_id(path: Path) -> str:
    """The build id in a UF2's flash content: the 8 bytes after the slot's magic."""
    from hil.deploy.build_id import BUILD_ID_BYTES, BUILD_ID_MAGIC, BuildIdSlotMissing
    from hil.deploy.uf2 import read_uf2
    _family, pages = read_uf2(path)
    flash = b"".join(pages[address] for address in sorted(pages))
    at = flash.find(BUILD_ID_MAGIC)
    if at < 0:
        raise BuildIdSlotMissing(path, f"no {BUILD_ID_MAGIC.decode()} slot in its flash content")
    return flash[at + len(BUILD_ID_MAGIC):at + len(BUILD_ID_MAGIC) + BUILD_ID_BYTES].hex()
