"""The third-party images a simulated Pico runs: the RP2040 bootrom (every board) and a MicroPython RPI_PICO UF2
(MicroPython boards). They are inputs, never part of the project: found, checked, and refused with a clear error.

Where each image is looked for, first match wins, and a setting that names something unusable is an error (never a
silent fall-back to the next place):

1. the sim bench file's `firmware:` keys (`bootrom:`, `micropython_uf2:`; relative to the bench file's folder);
2. the folder `$HIL_FIRMWARE_DIR`;
3. the per-user cache `$XDG_CACHE_HOME/pico-hil/firmware` (default `~/.cache/pico-hil/firmware`), which
   `hil sim firmware FILE...` fills after checking each file.

In a folder the UF2 is the only `*.uf2` file and the bootrom the only `*bootrom*.bin` file.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from hil.errors import ConfigError
from hil.sim.sim_errors import FirmwareImageInvalid, FirmwareImageMissing

FIRMWARE_DIR_ENV = "HIL_FIRMWARE_DIR"
CACHE_SUBDIR = Path("pico-hil") / "firmware"
UF2_GLOB = "*.uf2"
BOOTROM_GLOB = "*bootrom*.bin"

BOOTROM_BYTES = 16 * 1024
BOOTROM_MAGIC_OFFSET = 0x10          # 'M', 'u', 0x01, then the ROM version byte (2 = B1)
BOOTROM_MAGIC = b"Mu\x01"
BOOTROM_VERSION_OFFSET = 0x13

UF2_BLOCK_BYTES = 512
UF2_MAGIC_START0 = 0x0A324655
UF2_MAGIC_START1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FLAG_NOT_MAIN_FLASH = 0x00000001
UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000
UF2_PAYLOAD_MAX_BYTES = 476
RP2040_FAMILY_ID = 0xE48BFF56
FLASH_BASE = 0x10000000
PICO_FLASH_BYTES = 2 * 1024 * 1024

# sys.version carries "MicroPython vX on DATE"; the board line ("; Raspberry Pi Pico with RP2040") is separate.
VERSION_PATTERN = re.compile(rb"MicroPython (v[0-9][^\s\x00;]*) on ([0-9][0-9-]*)")
BOARD_PATTERN = re.compile(rb"; ([A-Za-z0-9 ._-]+ with RP2040)\x00")

WHERE_TO_GET = (
    "get them from: the MicroPython firmware for the Raspberry Pi Pico (RPI_PICO) at "
    "https://micropython.org/download/RPI_PICO/ (a .uf2 file); the RP2040 bootrom revision B1 "
    "(a 16 KiB .bin) built from https://github.com/raspberrypi/pico-bootrom (tag b1)")
HOW_TO_POINT = (
    f"then either run `hil sim firmware FILE...` (checks them and copies them into the per-user cache), "
    f"set {FIRMWARE_DIR_ENV} to the folder that holds them, or name them in a sim bench file "
    f"(firmware: {{bootrom: PATH, micropython_uf2: PATH}})")


@dataclass(frozen=True)
class SimFirmwareInput:
    """A file the simulated chip starts from (its bootrom, the MicroPython UF2): not a build of the project's."""

    kind: str            # "bootrom" | "micropython_uf2"
    path: Path
    sha256: str
    found_in: str        # where it was found: the bench file key, $HIL_FIRMWARE_DIR or the cache
    version: str = ""    # bootrom: "B1"; UF2: the firmware's banner

    def facts(self) -> dict[str, str]:
        return {"path": str(self.path), "sha256": self.sha256, "found_in": self.found_in, "version": self.version}


@dataclass(frozen=True)
class SimFirmwareInputs:
    bootrom: SimFirmwareInput
    micropython_uf2: SimFirmwareInput | None   # None when the bench has no MicroPython board

    def facts(self) -> dict[str, dict[str, str]]:
        images = {"bootrom": self.bootrom.facts()}
        if self.micropython_uf2 is not None:
            images["micropython_uf2"] = self.micropython_uf2.facts()
        return images


# ---- checking one file
def _read(path: Path, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise FirmwareImageInvalid(path, kind, "is a folder, not a file") from None
    except OSError as err:
        raise FirmwareImageInvalid(path, kind, f"cannot be read: {err.strerror or err}") from None


def check_bootrom(path: str | os.PathLike, found_in: str = "given") -> SimFirmwareInput:
    path = Path(path)
    data = _read(path, "bootrom")
    if len(data) != BOOTROM_BYTES:
        raise FirmwareImageInvalid(path, "bootrom", f"is {len(data)} bytes; an RP2040 bootrom is exactly "
                                                   f"{BOOTROM_BYTES} bytes (16 KiB)")
    if data[BOOTROM_MAGIC_OFFSET:BOOTROM_MAGIC_OFFSET + len(BOOTROM_MAGIC)] != BOOTROM_MAGIC:
        raise FirmwareImageInvalid(path, "bootrom", "has no RP2040 bootrom magic ('Mu\\x01' at offset 0x10)")
    version_byte = data[BOOTROM_VERSION_OFFSET]
    version = {1: "B0", 2: "B1", 3: "B2"}.get(version_byte, f"unknown ({version_byte})")
    return SimFirmwareInput("bootrom", path, hashlib.sha256(data).hexdigest(), found_in, version)


def uf2_flash_payload(path: Path, data: bytes) -> bytes:
    """The bytes a UF2 writes into the Pico's flash, in address order from FLASH_BASE (gaps 0xff); refuses a file
    that is not an RP2040 UF2."""
    kind = "micropython_uf2"
    if not data or len(data) % UF2_BLOCK_BYTES:
        raise FirmwareImageInvalid(path, kind, f"is {len(data)} bytes, not a whole number of 512-byte UF2 blocks")
    chunks: dict[int, bytes] = {}
    for index in range(len(data) // UF2_BLOCK_BYTES):
        block = data[index * UF2_BLOCK_BYTES:(index + 1) * UF2_BLOCK_BYTES]
        magic0, magic1, flags, address, size, _, _, family = struct.unpack_from("<8I", block)
        (magic_end,) = struct.unpack_from("<I", block, UF2_BLOCK_BYTES - 4)
        if (magic0, magic1, magic_end) != (UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END):
            raise FirmwareImageInvalid(path, kind, f"block {index} has no UF2 magic: not a UF2 file")
        if flags & UF2_FLAG_NOT_MAIN_FLASH:
            continue
        if not flags & UF2_FLAG_FAMILY_ID_PRESENT or family != RP2040_FAMILY_ID:
            shown = f"0x{family:08x}" if flags & UF2_FLAG_FAMILY_ID_PRESENT else "none"
            raise FirmwareImageInvalid(path, kind, f"block {index} has family id {shown}, not RP2040's "
                                                   f"0x{RP2040_FAMILY_ID:08x}: not a UF2 for the Pico")
        if size > UF2_PAYLOAD_MAX_BYTES or not FLASH_BASE <= address <= FLASH_BASE + PICO_FLASH_BYTES - size:
            raise FirmwareImageInvalid(path, kind, f"block {index} writes {size} bytes at 0x{address:08x}, "
                                                   f"outside the Pico's 2 MiB flash")
        chunks[address - FLASH_BASE] = block[32:32 + size]
    if not chunks:
        raise FirmwareImageInvalid(path, kind, "writes nothing into flash")
    end = max(offset + len(chunk) for offset, chunk in chunks.items())
    image = bytearray(b"\xff" * end)
    for offset, chunk in chunks.items():
        image[offset:offset + len(chunk)] = chunk
    return bytes(image)


def micropython_banner(payload: bytes) -> str | None:
    """`MicroPython v1.27.0 on 2026-12-01; Raspberry Pi Pico with RP2040`, as the firmware prints it, or None."""
    version = VERSION_PATTERN.search(payload)
    if version is None:
        return None
    board = BOARD_PATTERN.search(payload)
    banner = f"MicroPython {version.group(1).decode()} on {version.group(2).decode()}"
    return banner + (f"; {board.group(1).decode()}" if board else "")


def check_micropython_uf2(path: str | os.PathLike, found_in: str = "given") -> SimFirmwareInput:
    path = Path(path)
    data = _read(path, "micropython_uf2")
    banner = micropython_banner(uf2_flash_payload(path, data))
    if banner is None:
        raise FirmwareImageInvalid(path, "micropython_uf2", "is an RP2040 UF2 but not MicroPython firmware "
                                                            "(no MicroPython version banner inside)")
    return SimFirmwareInput("micropython_uf2", path, hashlib.sha256(data).hexdigest(), found_in, banner)


CHECKS = {"bootrom": check_bootrom, "micropython_uf2": check_micropython_uf2}
GLOBS = {"bootrom": BOOTROM_GLOB, "micropython_uf2": UF2_GLOB}
DESCRIPTIONS = {"bootrom": "RP2040 bootrom", "micropython_uf2": "MicroPython RPI_PICO UF2"}


# ---- finding
def cache_dir(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / CACHE_SUBDIR


def _find_in_folder(folder: Path, kind: str) -> Path | None:
    matches = sorted(p for p in folder.glob(GLOBS[kind]) if p.is_file())
    if len(matches) > 1:
        raise FirmwareImageMissing(kind, f"{folder} holds several {GLOBS[kind]} files "
                                         f"({', '.join(p.name for p in matches)}); keep one, or name the one to "
                                         f"use in the sim bench file (firmware: {kind}: PATH)")
    return matches[0] if matches else None


@dataclass(frozen=True)
class BenchFirmwareKey:
    """A `firmware:` entry of a sim bench file: the path as written, and where it was written (for errors)."""
    path: str
    bench_file: str
    line: int | None


def locate_image(kind: str, bench_key: BenchFirmwareKey | None = None,
                 environ: dict[str, str] | None = None) -> SimFirmwareInput:
    """The checked image of `kind` ("bootrom" | "micropython_uf2") from the first place that names one."""
    environ = os.environ if environ is None else environ
    if bench_key is not None:
        path = Path(bench_key.path)
        if not path.is_absolute():
            path = Path(bench_key.bench_file).resolve().parent / path
        if not path.exists():
            raise ConfigError(bench_key.bench_file, bench_key.line, f"firmware.{kind}",
                              f"{path}: no such file ({DESCRIPTIONS[kind]})")
        try:
            return CHECKS[kind](path, f"{bench_key.bench_file}: firmware.{kind}")
        except FirmwareImageInvalid as err:
            raise ConfigError(bench_key.bench_file, bench_key.line, f"firmware.{kind}", str(err)) from None
    folder_setting = environ.get(FIRMWARE_DIR_ENV)
    if folder_setting:
        folder = Path(folder_setting)
        if not folder.is_dir():
            raise FirmwareImageMissing(kind, f"{FIRMWARE_DIR_ENV}={folder_setting} is not a folder. "
                                             f"{HOW_TO_POINT}")
        found = _find_in_folder(folder, kind)
        if found is None:
            raise FirmwareImageMissing(kind, f"{FIRMWARE_DIR_ENV}={folder_setting} holds no {GLOBS[kind]} file. "
                                             f"{WHERE_TO_GET}; {HOW_TO_POINT}")
        return CHECKS[kind](found, f"${FIRMWARE_DIR_ENV}")
    cache = cache_dir(environ)
    found = _find_in_folder(cache, kind) if cache.is_dir() else None
    if found is None:
        raise FirmwareImageMissing(kind, f"not named in the bench file, {FIRMWARE_DIR_ENV} is not set, and the "
                                         f"cache {cache} has none. {WHERE_TO_GET}; {HOW_TO_POINT}")
    return CHECKS[kind](found, "cache")


def locate_images(need_micropython: bool, bench_keys: dict[str, BenchFirmwareKey] | None = None,
                  environ: dict[str, str] | None = None) -> SimFirmwareInputs:
    bench_keys = bench_keys or {}
    bootrom = locate_image("bootrom", bench_keys.get("bootrom"), environ)
    uf2 = (locate_image("micropython_uf2", bench_keys.get("micropython_uf2"), environ)
           if need_micropython else None)
    return SimFirmwareInputs(bootrom, uf2)


# ---- `hil sim firmware`: check and copy into the cache
def identify(path: str | os.PathLike) -> SimFirmwareInput:
    """Which image a file is (a 16 KiB bootrom or a MicroPython UF2), checked; refuses anything else."""
    path = Path(path)
    if path.suffix.lower() == ".uf2":
        return check_micropython_uf2(path)
    return check_bootrom(path)


def install_into_cache(paths: list[str | os.PathLike], environ: dict[str, str] | None = None) -> list[SimFirmwareInput]:
    """Check every file first, then copy each into the cache, replacing the image of the same kind there (the
    cache holds one of each). Nothing is copied if any file is refused."""
    images = [identify(path) for path in paths]
    kinds = [image.kind for image in images]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            raise FirmwareImageMissing(kind, f"given {kinds.count(kind)} times; the cache holds one of each")
    cache = cache_dir(environ)
    cache.mkdir(parents=True, exist_ok=True)
    installed = []
    for image in images:
        if image.path.resolve().parent == cache.resolve():
            installed.append(image)   # already the cached copy
            continue
        for old in cache.glob(GLOBS[image.kind]):
            old.unlink()
        name = image.path.name
        if image.kind == "bootrom" and not Path(name).match(BOOTROM_GLOB):
            name = f"rp2040-bootrom-{image.version.lower()}.bin"   # so the cache lookup finds it
        target = cache / name
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(image.path, tmp)
        os.replace(tmp, target)
        installed.append(check_bootrom(target, "cache") if image.kind == "bootrom"
                         else check_micropython_uf2(target, "cache"))
    return installed


def bench_firmware_keys(config) -> dict[str, BenchFirmwareKey]:
    """The `firmware:` entries of a sim bench file's BenchConfig (None: the default bench names none)."""
    if config is None:
        return {}
    entries = config.options.get("firmware") or {}
    return {kind: BenchFirmwareKey(path, config.path, entries.line_of(kind) if hasattr(entries, "line_of") else None)
            for kind, path in entries.items()}
