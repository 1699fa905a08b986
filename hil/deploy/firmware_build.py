"""Building the Rust firmware in firmware_rust/: cargo for thumbv6m-none-eabi, then the build id and a UF2.

`build_firmware("lesson")` leaves the ELF at firmware_rust/target/thumbv6m-none-eabi/release/lesson and writes
lesson.uf2 next to it. Builds are cached: the inputs (every file of firmware_rust/ outside target/, the toolchain,
the edit stamp) are hashed, and when that hash, the ELF and the UF2 all match the last build's record, nothing
runs at all. Otherwise cargo builds incrementally. See docs/firmware.md.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout as LockTimeout

from hil.deadline import Deadline
from hil.deploy.build_id import patch_build_id
from hil.deploy.rust_toolchain import TARGET, RustToolchain, detect_toolchain
from hil.deploy.uf2 import write_uf2
from hil.errors import DeadlineExpired, HilError
from hil.process import run_tool

__all__ = ["BuildResult", "FirmwareBuildFailed", "build_firmware", "detect_toolchain", "firmware_dir"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR_NAME = "firmware_rust"
DEFAULT_BUILD_TIMEOUT_S = 1800.0
# The firmware reads this variable at compile time (option_env!) and keeps it in flash: a different stamp is a
# different image, which is how the deploy-time scenario simulates an edit without touching the sources.
EDIT_STAMP_ENV = "LESSON_EDIT_STAMP"
# Bump when the steps below change, so records written by an older procedure are not trusted.
BUILD_RECIPE_VERSION = 1
IGNORED_DIRS = {"target", ".git"}
HASH_CHUNK_BYTES = 1 << 20

Progress = Callable[[str], None]


class FirmwareBuildFailed(HilError):
    """cargo could not build the firmware; carries the tail of its output."""

    def __init__(self, name: str, toolchain: RustToolchain, argv: list[str], output_tail: str):
        self.name = name
        self.argv = argv
        self.output_tail = output_tail
        super().__init__(f"building firmware {name!r} with {toolchain} failed:\n{output_tail}")


@dataclass(frozen=True)
class BuildResult:
    elf_path: Path
    uf2_path: Path
    build_id: str
    toolchain: str
    rebuilt: bool          # False: nothing ran, the previous build is current
    elapsed_s: float


def firmware_dir(project_root: Path | None = None) -> Path:
    return Path(project_root or PROJECT_ROOT) / FIRMWARE_DIR_NAME


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _input_hash(source_dir: Path, toolchain: RustToolchain, name: str, edit_stamp: str | None) -> str:
    digest = hashlib.sha256()
    digest.update(f"recipe={BUILD_RECIPE_VERSION}\0name={name}\0toolchain={toolchain.identity()}\0"
                  f"edit={edit_stamp or ''}\0".encode())
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if relative.parts[0] in IGNORED_DIRS or not path.is_file():
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(_file_sha256(path).encode() + b"\0")
    return digest.hexdigest()


def _record_path(target_dir: Path, name: str) -> Path:
    return target_dir / "hil-build" / f"{name}.json"


def _current_record(record_path: Path, input_hash: str, elf: Path, uf2: Path) -> dict | None:
    """The previous build's record if it is still valid: same inputs, and its outputs are untouched."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("input_hash") != input_hash or not elf.is_file() or not uf2.is_file():
        return None
    if record.get("elf_sha256") != _file_sha256(elf) or record.get("uf2_sha256") != _file_sha256(uf2):
        return None
    return record


def build_firmware(name: str = "lesson", timeout_s: float = DEFAULT_BUILD_TIMEOUT_S, progress: Progress | None = None,
                   edit_stamp: str | None = None, project_root: Path | None = None,
                   toolchain: RustToolchain | None = None) -> BuildResult:
    """Builds firmware binary `name` of firmware_rust/ (if anything changed) and returns where it is.

    Raises NoRustToolchain, FirmwareBuildFailed, ToolTimeout/DeadlineExpired (the build or waiting for another
    process's build took longer than `timeout_s`).
    """
    deadline = Deadline(timeout_s)
    say = progress or (lambda _message: None)
    start = time.monotonic()
    source_dir = firmware_dir(project_root)
    if not (source_dir / "Cargo.toml").is_file():
        raise HilError(f"{source_dir}: no Cargo.toml (is this the project's root?)")
    toolchain = toolchain or detect_toolchain()
    say(f"toolchain: {toolchain}")
    target_dir = source_dir / "target"
    elf = target_dir / TARGET / "release" / name
    uf2 = elf.with_name(f"{name}.uf2")
    record_path = _record_path(target_dir, name)
    record_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(record_path.with_suffix(".lock")))
    try:
        lock.acquire(timeout=deadline.remaining_s)
    except LockTimeout:
        raise DeadlineExpired(f"waiting for another build of {name} to finish", timeout_s) from None
    try:
        input_hash = _input_hash(source_dir, toolchain, name, edit_stamp)
        record = _current_record(record_path, input_hash, elf, uf2)
        if record:
            say(f"{name}: up to date (build {record['build_id']})")
            return BuildResult(elf, uf2, record["build_id"], str(toolchain), False, time.monotonic() - start)
        _run_cargo(name, toolchain, source_dir, target_dir, edit_stamp, deadline, say)
        if not elf.is_file():
            raise HilError(f"cargo finished but {elf} does not exist")
        build_id = patch_build_id(elf)
        say(f"{name}: build id {build_id}")
        write_uf2(elf, uf2)
        say(f"{name}: wrote {uf2}")
        record_path.write_text(json.dumps({
            "input_hash": input_hash, "build_id": build_id, "toolchain": str(toolchain),
            "elf_sha256": _file_sha256(elf), "uf2_sha256": _file_sha256(uf2),
        }, indent=1), encoding="utf-8")
        return BuildResult(elf, uf2, build_id, str(toolchain), True, time.monotonic() - start)
    finally:
        lock.release()


def _run_cargo(name: str, toolchain: RustToolchain, source_dir: Path, target_dir: Path, edit_stamp: str | None,
               deadline: Deadline, say: Progress) -> None:
    argv = [toolchain.cargo, "build", "--release", "--target", TARGET, "--package", name, "--bin", name,
            "--target-dir", str(target_dir), "--color", "never", *toolchain.extra_args]
    env = toolchain.cargo_env()
    env.pop(EDIT_STAMP_ENV, None)
    if edit_stamp:
        env[EDIT_STAMP_ENV] = edit_stamp
    tail: list[str] = []

    def on_line(_stream: str, line: str) -> None:
        tail.append(line)
        del tail[:-40]
        stripped = line.strip()
        # cargo's own progress: "Compiling x v1", "Finished ...", errors and warnings' first lines.
        if stripped.startswith(("Compiling", "Finished", "error", "warning:", "Updating", "Downloading")):
            say(stripped)

    say(f"{name}: cargo build ({toolchain.kind})")
    result = run_tool(argv, deadline.remaining_s, env=env, cwd=source_dir, check=False, on_output_line=on_line)
    if result.returncode != 0:
        raise FirmwareBuildFailed(name, toolchain, argv, "\n".join(tail))
