"""Building the Rust firmware in firmware_rust/: cargo for thumbv6m-none-eabi, then the build id and a UF2.

Every finished build is stored under its build id, never rewritten: firmware_rust/target/hil-builds/<name>/<id>/
holds the ELF (`<name>`), the UF2 (`<name>.uf2`) and `build.json`, and a `BuildResult`'s image points only there. So a
worker flashing build A keeps flashing A while another worker builds an edited B. The inputs (every file of
firmware_rust/ outside target/, the toolchain, the edit stamp) are hashed; an index maps that hash to a stored
build, and when the stored files still match their record nothing runs at all. Otherwise cargo builds
incrementally into its own target folder (a scratch area) and the result is copied into the store. Old builds are
pruned beyond a limit, never one handed to a process that is still alive. See docs/firmware.md.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout as LockTimeout

from hil.deadline import Deadline
from hil.deploy.build_id import patch_build_id
from hil.deploy.firmware_image import FirmwareImage
from hil.deploy.rust_toolchain import TARGET, RustToolchain, detect_toolchain
from hil.deploy.uf2 import write_uf2
from hil.errors import DeadlineExpired, HilError
from hil.process import run_tool

__all__ = ["BuildResult", "FirmwareBuildFailed", "build_firmware", "detect_toolchain", "firmware_dir", "latest_build",
           "prune_builds", "store_dir"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR_NAME = "firmware_rust"
DEFAULT_BUILD_TIMEOUT_S = 1800.0
# The firmware reads this variable at compile time (option_env!) and keeps it in flash: a different stamp is a
# different image, which is how the deploy-time scenario simulates an edit without touching the sources.
EDIT_STAMP_ENV = "LESSON_EDIT_STAMP"
# Bump when the steps below change, so records written by an older procedure are not trusted.
BUILD_RECIPE_VERSION = 2
IGNORED_DIRS = {"target", ".git"}
HASH_CHUNK_BYTES = 1 << 20
READ_ONLY_MODE = 0o444
BUILD_DIR_MODE = 0o755

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
    """A stored build: its firmware image and how it came about."""
    image: FirmwareImage
    toolchain: str
    rebuilt: bool          # False: nothing ran, a stored build matched the inputs
    elapsed_s: float


def firmware_dir(project_root: Path | None = None) -> Path:
    return Path(project_root or PROJECT_ROOT) / FIRMWARE_DIR_NAME


def cargo_features(name: str, project_root: Path | None = None) -> set[str] | None:
    """The cargo features firmware package `name` declares, or None when its Cargo.toml cannot be read."""
    import tomllib
    try:
        manifest = tomllib.loads((firmware_dir(project_root) / name / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return set(manifest.get("features", {}))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _input_hash(source_dir: Path, toolchain: RustToolchain, name: str, edit_stamp: str | None,
                features: tuple[str, ...] = ()) -> str:
    digest = hashlib.sha256()
    digest.update(f"recipe={BUILD_RECIPE_VERSION}\0name={name}\0toolchain={toolchain.identity()}\0"
                  f"edit={edit_stamp or ''}\0features={','.join(features)}\0".encode())
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if relative.parts[0] in IGNORED_DIRS or not path.is_file():
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(_file_sha256(path).encode() + b"\0")
    return digest.hexdigest()


STORE_DIR_NAME = "hil-builds"
RECORD_NAME = "build.json"
INDEX_DIR_NAME = "by-input"
HOLDERS_DIR_NAME = "holders"
LATEST_NAME = "latest"
# Builds kept per firmware name; the deploy-time scenario adds one per edit, so a run makes a few.
DEFAULT_KEEP_BUILDS = 8


def store_dir(name: str, project_root: Path | None = None, source_dir: Path | None = None) -> Path:
    """Where the stored builds of firmware `name` live, one folder per build id."""
    return Path(source_dir or firmware_dir(project_root)) / "target" / STORE_DIR_NAME / name


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _intact_build(build_dir: Path, name: str) -> dict | None:
    """The record of the stored build in `build_dir` if its ELF and UF2 are still the ones it recorded."""
    record = _read_json(build_dir / RECORD_NAME)
    if record is None:
        return None
    elf, uf2 = build_dir / name, build_dir / f"{name}.uf2"
    if not elf.is_file() or not uf2.is_file():
        return None
    if record.get("elf_sha256") != _file_sha256(elf) or record.get("uf2_sha256") != _file_sha256(uf2):
        return None
    return record


def _hand_out(build_dir: Path, name: str, record: dict, rebuilt: bool, start: float) -> BuildResult:
    """Marks the build as in use by this process (pruning skips it while the process lives) and returns it."""
    holders = build_dir / HOLDERS_DIR_NAME
    holders.mkdir(exist_ok=True)
    (holders / str(os.getpid())).touch()
    return BuildResult(_image(build_dir, name, record), record["toolchain"], rebuilt, time.monotonic() - start)


def _image(build_dir: Path, name: str, record: dict) -> FirmwareImage:
    return FirmwareImage(build_dir / name, build_dir / f"{name}.uf2", record["build_id"], name=name)


def _store(scratch_elf: Path, store: Path, name: str, input_hash: str, toolchain: RustToolchain,
           edit_stamp: str | None, features: tuple[str, ...], say: Progress) -> tuple[Path, dict]:
    """Copies cargo's ELF into a new stored build (id patched in, UF2 beside it); returns its folder and record.

    The folder is assembled under a private name and renamed into place, so no reader sees half a build. If a
    build with the same id is already stored intact (the same image from other inputs), that one is kept.
    """
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=store))
    try:
        elf = staging / name
        shutil.copyfile(scratch_elf, elf)
        build_id = patch_build_id(elf)
        uf2 = write_uf2(elf, staging / f"{name}.uf2")
        record = {"name": name, "build_id": build_id, "input_hash": input_hash, "toolchain": str(toolchain),
                  "edit_stamp": edit_stamp, "features": list(features), "recipe": BUILD_RECIPE_VERSION,
                  "stored_at": time.time(), "elf_sha256": _file_sha256(elf), "uf2_sha256": _file_sha256(uf2)}
        (staging / RECORD_NAME).write_text(json.dumps(record, indent=1), encoding="utf-8")
        for path in (elf, uf2, staging / RECORD_NAME):
            path.chmod(READ_ONLY_MODE)
        staging.chmod(BUILD_DIR_MODE)       # mkdtemp's folder is private; a stored build is for every user
        build_dir = store / build_id
        existing = _intact_build(build_dir, name)
        if existing is not None:
            say(f"{name}: build {build_id} is already stored")
            return build_dir, existing
        if build_dir.exists():      # damaged behind our back: an image nobody can trust, replaced whole
            _remove_build(build_dir)
        staging.rename(build_dir)
        return build_dir, record
    finally:
        if staging.exists():
            _remove_build(staging)


def _remove_build(build_dir: Path) -> None:
    shutil.rmtree(build_dir, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_use(build_dir: Path) -> bool:
    holders = build_dir / HOLDERS_DIR_NAME
    if not holders.is_dir():
        return False
    return any(holder.name.isdigit() and _process_alive(int(holder.name)) for holder in holders.iterdir())


def _last_used_s(build_dir: Path) -> float:
    holders = build_dir / HOLDERS_DIR_NAME
    times = [holder.stat().st_mtime for holder in holders.iterdir()] if holders.is_dir() else []
    return max(times, default=build_dir.stat().st_mtime)


def prune_builds(name: str, keep: int = DEFAULT_KEEP_BUILDS, project_root: Path | None = None,
                 timeout_s: float = DEFAULT_BUILD_TIMEOUT_S) -> list[str]:
    """Removes the least recently used stored builds of `name` beyond `keep`, skipping any build handed to a
    process that is still running; returns the removed build ids."""
    store = store_dir(name, project_root)
    if not store.is_dir():
        return []
    with _store_lock(store, name, Deadline(timeout_s), timeout_s):
        return _prune_locked(store, keep)


def _prune_locked(store: Path, keep: int) -> list[str]:
    builds = [path for path in store.iterdir() if path.is_dir() and not path.name.startswith(".")
              and path.name != INDEX_DIR_NAME]
    builds.sort(key=_last_used_s, reverse=True)
    removed = []
    for build_dir in builds[keep:]:
        if not _in_use(build_dir):
            _remove_build(build_dir)
            removed.append(build_dir.name)
    return removed


class _store_lock:
    def __init__(self, store: Path, name: str, deadline: Deadline, timeout_s: float):
        self.lock = FileLock(str(store / ".lock"))
        self.name, self.deadline, self.timeout_s = name, deadline, timeout_s

    def __enter__(self) -> None:
        try:
            self.lock.acquire(timeout=self.deadline.remaining_s)
        except LockTimeout:
            raise DeadlineExpired(f"waiting for another build of {self.name} to finish", self.timeout_s) from None

    def __exit__(self, *_exc) -> None:
        self.lock.release()


def latest_build(name: str = "lesson", project_root: Path | None = None) -> BuildResult | None:
    """The most recent stored build of `name` without an edit stamp, as `hil build` left it (None if there is none
    or it is damaged). For tools and tests that use the firmware without building it."""
    store = store_dir(name, project_root)
    try:
        build_id = (store / LATEST_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    build_dir = store / build_id
    record = _intact_build(build_dir, name) if build_id else None
    if record is None:
        return None
    return BuildResult(_image(build_dir, name, record), record["toolchain"], False, 0.0)


def build_firmware(name: str = "lesson", timeout_s: float = DEFAULT_BUILD_TIMEOUT_S, progress: Progress | None = None,
                   edit_stamp: str | None = None, project_root: Path | None = None,
                   toolchain: RustToolchain | None = None, keep_builds: int = DEFAULT_KEEP_BUILDS,
                   features: tuple[str, ...] | list[str] = (), source_dir: Path | None = None) -> BuildResult:
    """Builds firmware binary `name` of firmware_rust/ (if anything changed) and returns its stored build.

    `source_dir`: build package `name` of another cargo folder instead (a user's own firmware crate), with the
    same store, build id and caching, kept under that folder's target/.

    `features`: cargo features of the firmware crate (e.g. "handicap-sort"); a different set is a different build.

    Raises NoRustToolchain, FirmwareBuildFailed, ToolTimeout/DeadlineExpired (the build or waiting for another
    process's build took longer than `timeout_s`).
    """
    deadline = Deadline(timeout_s)
    say = progress or (lambda _message: None)
    start = time.monotonic()
    source_dir = Path(source_dir) if source_dir is not None else firmware_dir(project_root)
    if not (source_dir / "Cargo.toml").is_file():
        raise HilError(f"{source_dir}: no Cargo.toml (is this the project's root?)")
    toolchain = toolchain or detect_toolchain()
    say(f"toolchain: {toolchain}")
    target_dir = source_dir / "target"
    features = tuple(sorted(set(features)))
    store = store_dir(name, source_dir=source_dir)
    (store / INDEX_DIR_NAME).mkdir(parents=True, exist_ok=True)
    with _store_lock(store, name, deadline, timeout_s):
        input_hash = _input_hash(source_dir, toolchain, name, edit_stamp, features)
        index_entry = store / INDEX_DIR_NAME / input_hash
        try:
            known_id = index_entry.read_text(encoding="utf-8").strip()
        except OSError:
            known_id = ""
        record = _intact_build(store / known_id, name) if known_id else None
        if record is not None and record.get("input_hash") == input_hash:
            say(f"{name}: up to date (build {known_id})")
            result = _hand_out(store / known_id, name, record, False, start)
        else:
            _run_cargo(name, toolchain, source_dir, target_dir, edit_stamp, features, deadline, say)
            scratch_elf = target_dir / TARGET / "release" / name
            if not scratch_elf.is_file():
                raise HilError(f"cargo finished but {scratch_elf} does not exist")
            build_dir, record = _store(scratch_elf, store, name, input_hash, toolchain, edit_stamp, features, say)
            _write_atomically(index_entry, record["build_id"])
            say(f"{name}: build id {record['build_id']}, stored in {build_dir}")
            result = _hand_out(build_dir, name, record, True, start)
        if edit_stamp is None and not features:
            _write_atomically(store / LATEST_NAME, result.image.build_id)
        for removed in _prune_locked(store, keep_builds):
            say(f"{name}: pruned old build {removed}")
        _drop_stale_index_entries(store)
        return result


def _drop_stale_index_entries(store: Path) -> None:
    for entry in (store / INDEX_DIR_NAME).iterdir():
        try:
            if not (store / entry.read_text(encoding="utf-8").strip()).is_dir():
                entry.unlink()
        except OSError:
            continue



def _run_cargo(name: str, toolchain: RustToolchain, source_dir: Path, target_dir: Path, edit_stamp: str | None,
               features: tuple[str, ...], deadline: Deadline, say: Progress) -> None:
    argv = [toolchain.cargo, "build", "--release", "--target", TARGET, "--package", name, "--bin", name,
            "--target-dir", str(target_dir), "--color", "never", *toolchain.extra_args]
    if features:
        argv += ["--features", ",".join(features)]
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
