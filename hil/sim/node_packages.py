"""The simulator's Node.js side, ready to run: its scripts beside the npm packages pinned in package-lock.json.

An installed package cannot count on writing into its own folder (site-packages), and Node resolves the imports of
an ES module from where the module file is, not from NODE_PATH. So on first use the scripts and package files of
hil/sim/node are copied into a per-user cache folder named by the hash of those files, and `npm ci` installs the
locked packages there; later runs find the folder ready and do nothing. `hil sim install` does the same up front.

A source checkout that already ran `npm ci` in hil/sim/node (as ./run does) is used in place.

Cache root: $HIL_CACHE_DIR, else $XDG_CACHE_HOME/pico-hil, else ~/.cache/pico-hil.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout as LockTimeout

from hil.deadline import Deadline
from hil.errors import DeadlineExpired, HilError, ToolFailed, ToolMissing
from hil.process import run_tool

NODE_SOURCE_DIR = Path(__file__).resolve().parent / "node"
SOURCE_SUFFIXES = (".mjs", ".js", ".py", ".json")
READY_MARK = ".hil-ready"
INSTALL_TIMEOUT_S = 600.0
INSTALL_COMMAND = "hil sim install"
NODE_HINT = "Node.js 18 or newer with npm, e.g. apt-get install nodejs npm"

Progress = Callable[[str], None]


def cache_root() -> Path:
    if os.environ.get("HIL_CACHE_DIR"):
        return Path(os.environ["HIL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pico-hil"


def _source_files(source_dir: Path) -> list[Path]:
    return sorted(p for p in source_dir.iterdir() if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def _locked_packages(source_dir: Path) -> dict[str, str]:
    """name -> version of the direct dependencies, as package.json pins them."""
    manifest = json.loads((source_dir / "package.json").read_text(encoding="utf-8"))
    return dict(manifest.get("dependencies", {}))


def _installed_in(folder: Path, packages: dict[str, str]) -> bool:
    for name, version in packages.items():
        manifest = folder / "node_modules" / name / "package.json"
        try:
            if json.loads(manifest.read_text(encoding="utf-8")).get("version") != version:
                return False
        except (OSError, ValueError):
            return False
    return True


def content_hash(source_dir: Path | None = None) -> str:
    source_dir = source_dir or NODE_SOURCE_DIR
    digest = hashlib.sha256()
    for path in _source_files(source_dir):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cached_dir(source_dir: Path | None = None) -> Path:
    return cache_root() / "sim-node" / content_hash(source_dir)


def ready_dir(source_dir: Path | None = None) -> Path | None:
    """The folder to run the scripts from if it is ready (in place, or the cache), else None. Does no work."""
    source_dir = source_dir or NODE_SOURCE_DIR
    packages = _locked_packages(source_dir)
    if _installed_in(source_dir, packages):
        return source_dir
    cached = cached_dir(source_dir)
    if (cached / READY_MARK).is_file() and _installed_in(cached, packages):
        return cached
    return None


def package_versions(folder: Path | None = None) -> dict[str, str | None]:
    """Installed version of each pinned package (None: not installed) in `folder` or wherever it is ready."""
    folder = folder or ready_dir() or cached_dir()
    versions: dict[str, str | None] = {}
    for name in _locked_packages(NODE_SOURCE_DIR):   # looked up at call time (tests point it elsewhere)
        try:
            manifest = folder / "node_modules" / name / "package.json"
            versions[name] = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            versions[name] = None
    return versions


def ensure_installed(progress: Progress | None = None, timeout_s: float = INSTALL_TIMEOUT_S,
                     source_dir: Path | None = None) -> Path:
    """The folder holding the simulator's scripts and their npm packages, installing them once if needed.

    Raises ToolMissing (node or npm absent, naming `hil sim install`), ToolFailed (npm failed), DeadlineExpired.
    """
    source_dir = source_dir or NODE_SOURCE_DIR
    ready = ready_dir(source_dir)
    if ready is not None:
        return ready
    say = progress or _stderr_line
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise ToolMissing(tool, f"{NODE_HINT}; then `{INSTALL_COMMAND}` installs the simulator's packages")
    deadline = Deadline(timeout_s)
    target = cached_dir(source_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        lock.acquire(timeout=deadline.remaining_s)
    except LockTimeout:
        raise DeadlineExpired("waiting for another install of the simulator's npm packages", timeout_s) from None
    try:
        ready = ready_dir(source_dir)   # another process may have finished while we waited
        if ready is not None:
            return ready
        packages = ", ".join(f"{n}@{v}" for n, v in _locked_packages(source_dir).items())
        say(f"hil: installing the simulator's npm packages ({packages}) into {target} (once)")
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            for path in _source_files(source_dir):
                shutil.copyfile(path, staging / path.name)
            try:
                run_tool(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], deadline.remaining_s,
                         cwd=staging)
            except ToolFailed as error:
                raise HilError(f"npm ci in {staging} failed (run `{INSTALL_COMMAND}` to retry): {error}") from None
            (staging / READY_MARK).write_text(packages + "\n", encoding="utf-8")
            if target.exists():          # a damaged earlier attempt: replaced whole
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        say(f"hil: simulator packages ready in {target}")
        return target
    finally:
        lock.release()


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
