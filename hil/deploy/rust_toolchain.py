"""Finding a Rust toolchain that can build for the Pico (thumbv6m-none-eabi), and how to invoke it.

Two kinds, tried in this order:
- `prebuilt`: a rustup toolchain with the thumbv6m-none-eabi target installed (`rustup target add
  thumbv6m-none-eabi`): plain `cargo build`, the target's own linker (rust-lld).
- `build-std`: a rustc that ships its library source (Debian's rustc-web + rust-web-src, or rustup's rust-src
  component) but no prebuilt `core` for the target: cargo builds `core` itself (`-Z build-std`, enabled on a
  stable compiler with RUSTC_BOOTSTRAP=1) and links with rust-lld or LLVM's ld.lld.
`HIL_RUST_TOOLCHAIN=prebuilt|build-std` forces one kind.
"""
from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import HilError, ToolFailed, ToolMissing, ToolTimeout
from hil.process import run_tool

TARGET = "thumbv6m-none-eabi"
TOOLCHAIN_ENV = "HIL_RUST_TOOLCHAIN"
PROBE_TIMEOUT_S = 30.0
DEBIAN_RUSTC = "/usr/bin/rustc"
DEBIAN_CARGO = "/usr/bin/cargo"
LIBRARY_SOURCE = Path("lib/rustlib/src/rust/library")
BUILD_STD_FLAGS = ("-Z", "build-std=core,alloc,compiler_builtins", "-Z", "build-std-features=compiler-builtins-mem")
# Debian names LLVM's linker by version (lld-16 installs ld.lld-16); newest first.
LLD_NAMES = ("ld.lld", *(f"ld.lld-{version}" for version in range(30, 13, -1)))
INSTALL_HINT = ("rustup target add thumbv6m-none-eabi (with rustup), or apt-get install rustc-web cargo-web "
                "rust-web-src lld (Debian)")


class NoRustToolchain(HilError):
    """No toolchain on this machine can build for thumbv6m-none-eabi."""

    def __init__(self, tried: list[str]):
        self.tried = tried
        super().__init__("no Rust toolchain can build for thumbv6m-none-eabi; tried: " + "; ".join(tried)
                         + f". Install one: {INSTALL_HINT}")


@dataclass(frozen=True)
class RustToolchain:
    kind: str                      # "prebuilt" | "build-std"
    cargo: str
    rustc: str
    rustc_version: str             # first line of `rustc -vV`
    linker: str | None = None      # None: the target's default (rust-lld shipped with the toolchain)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        linker = f", linker {self.linker}" if self.linker else ""
        return f"{self.kind}: {self.rustc_version} ({self.rustc}{linker})"

    def identity(self) -> str:
        """Everything about the toolchain that changes the output: part of the build cache key."""
        return "|".join([self.kind, self.cargo, self.rustc, self.rustc_version, self.linker or "",
                         " ".join(self.extra_args)])

    def cargo_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        env["RUSTC"] = self.rustc
        if self.linker:
            env["CARGO_TARGET_THUMBV6M_NONE_EABI_LINKER"] = self.linker
        return env


def _version(rustc: str) -> str | None:
    try:
        result = run_tool([rustc, "-vV"], PROBE_TIMEOUT_S, check=False)
    except (ToolMissing, ToolTimeout, OSError):
        return None
    return result.stdout.splitlines()[0].strip() if result.returncode == 0 and result.stdout else None


def _print(rustc: str, *what: str) -> str | None:
    try:
        result = run_tool([rustc, "--print", *what], PROBE_TIMEOUT_S, check=False)
    except (ToolMissing, ToolTimeout, ToolFailed, OSError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _prebuilt(tried: list[str]) -> RustToolchain | None:
    rustc, cargo = shutil.which("rustc"), shutil.which("cargo")
    if not rustc or not cargo:
        tried.append("prebuilt: rustc/cargo not on PATH")
        return None
    libdir = _print(rustc, "target-libdir", "--target", TARGET)
    if not libdir or not glob.glob(os.path.join(libdir, "libcore-*.rlib")):
        tried.append(f"prebuilt: {rustc} has no {TARGET} target installed")
        return None
    version = _version(rustc)
    if not version:
        tried.append(f"prebuilt: {rustc} -vV failed")
        return None
    return RustToolchain("prebuilt", cargo, rustc, version)


def _linker_for_build_std(sysroot: str) -> str | None:
    candidates = glob.glob(os.path.join(sysroot, "lib/rustlib/*/bin/rust-lld"))
    candidates += sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/*/lib/rustlib/*/bin/rust-lld")))
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in LLD_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _build_std(tried: list[str]) -> RustToolchain | None:
    pairs = [(DEBIAN_RUSTC, DEBIAN_CARGO)]
    if shutil.which("rustc") and shutil.which("cargo"):
        pairs.append((shutil.which("rustc"), shutil.which("cargo")))
    for rustc, cargo in pairs:
        if not (os.access(rustc, os.X_OK) and os.access(cargo, os.X_OK)):
            tried.append(f"build-std: {rustc} or {cargo} missing")
            continue
        sysroot = _print(rustc, "sysroot")
        if not sysroot or not (Path(sysroot) / LIBRARY_SOURCE / "core").is_dir():
            tried.append(f"build-std: {rustc} has no library source under {sysroot}/{LIBRARY_SOURCE}")
            continue
        linker = _linker_for_build_std(sysroot)
        if not linker:
            tried.append("build-std: no rust-lld or ld.lld found")
            continue
        version = _version(rustc)
        if not version:
            tried.append(f"build-std: {rustc} -vV failed")
            continue
        return RustToolchain("build-std", cargo, rustc, version, linker, BUILD_STD_FLAGS,
                             {"RUSTC_BOOTSTRAP": "1"})
    return None


_detected: RustToolchain | None = None


def detect_toolchain(refresh: bool = False) -> RustToolchain:
    """The toolchain `hil build` uses (remembered for the process); NoRustToolchain says what was tried."""
    global _detected
    if _detected is not None and not refresh:
        return _detected
    forced = os.environ.get(TOOLCHAIN_ENV, "").strip()
    finders = {"prebuilt": _prebuilt, "build-std": _build_std}
    if forced and forced not in finders:
        raise HilError(f"{TOOLCHAIN_ENV}={forced!r}: expected one of {', '.join(finders)}")
    tried: list[str] = []
    for kind, finder in finders.items():
        if forced and kind != forced:
            continue
        toolchain = finder(tried)
        if toolchain:
            _detected = toolchain
            return toolchain
    raise NoRustToolchain(tried)


def compiler_versions() -> dict[str, str]:
    """rustc's and cargo's version lines of the toolchain that builds the firmware, recorded with the results;
    empty when there is none (a MicroPython-only host)."""
    try:
        toolchain = detect_toolchain()
    except HilError:
        return {}
    versions = {"rustc": toolchain.rustc_version, "toolchain": toolchain.kind}
    try:
        result = run_tool([toolchain.cargo, "--version"], PROBE_TIMEOUT_S, check=False, env=toolchain.cargo_env())
        if result.returncode == 0 and result.stdout.strip():
            versions["cargo"] = result.stdout.splitlines()[0].strip()
    except (ToolMissing, ToolTimeout, OSError):
        pass
    return versions
