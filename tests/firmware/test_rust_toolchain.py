"""Which Rust toolchain `hil build` uses: a rustup toolchain with the target first, else build-std."""
from __future__ import annotations

import stat
import sys

import pytest

from hil.deploy import rust_toolchain
from hil.deploy.rust_toolchain import NoRustToolchain, detect_toolchain
from hil.errors import HilError


@pytest.fixture(autouse=True)
def fresh_detection(monkeypatch):
    monkeypatch.setattr(rust_toolchain, "_detected", None)
    monkeypatch.delenv(rust_toolchain.TOOLCHAIN_ENV, raising=False)


def fake_tool(folder, name, script):
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def only_on_path(monkeypatch, folder):
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(rust_toolchain, "DEBIAN_RUSTC", str(folder / "no-debian-rustc"))
    monkeypatch.setattr(rust_toolchain, "DEBIAN_CARGO", str(folder / "no-debian-cargo"))


def test_a_rustup_toolchain_with_the_target_installed_is_used_as_is(tmp_path, monkeypatch):
    libdir = tmp_path / "lib" / "thumbv6m-none-eabi" / "lib"
    libdir.mkdir(parents=True)
    (libdir / "libcore-0123.rlib").write_bytes(b"")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "rustc", f"print({str(libdir)!r} if '--print' in args else 'rustc 9.9.9 (fake)')")
    fake_tool(bin_dir, "cargo", "")
    only_on_path(monkeypatch, bin_dir)
    toolchain = detect_toolchain(refresh=True)
    assert toolchain.kind == "prebuilt"
    assert toolchain.extra_args == () and toolchain.linker is None
    assert "RUSTC_BOOTSTRAP" not in toolchain.cargo_env({})
    assert "rustc 9.9.9" in str(toolchain)


def test_a_rustc_with_library_source_but_no_target_builds_core_itself(tmp_path, monkeypatch):
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib/rustlib/src/rust/library/core").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "rustc", f"""
if args[:2] == ['--print', 'sysroot']:
    print({str(sysroot)!r})
elif args[:2] == ['--print', 'target-libdir']:
    print({str(tmp_path / 'missing')!r})
else:
    print('rustc 9.9.9 (fake)')""")
    fake_tool(bin_dir, "cargo", "")
    fake_tool(bin_dir, "ld.lld", "")
    only_on_path(monkeypatch, bin_dir)
    monkeypatch.setenv("HOME", str(tmp_path))     # no rustup rust-lld to find
    toolchain = detect_toolchain(refresh=True)
    assert toolchain.kind == "build-std"
    assert "build-std=core,alloc,compiler_builtins" in toolchain.extra_args
    env = toolchain.cargo_env({})
    assert env["RUSTC_BOOTSTRAP"] == "1"
    assert env["CARGO_TARGET_THUMBV6M_NONE_EABI_LINKER"] == str(bin_dir / "ld.lld")


def test_no_usable_toolchain_says_what_was_tried_and_how_to_install(tmp_path, monkeypatch):
    only_on_path(monkeypatch, tmp_path)
    with pytest.raises(NoRustToolchain) as failure:
        detect_toolchain(refresh=True)
    message = str(failure.value)
    assert "prebuilt: rustc/cargo not on PATH" in message
    assert "rustup target add thumbv6m-none-eabi" in message


def test_forcing_an_unknown_kind_is_an_error(monkeypatch):
    monkeypatch.setenv(rust_toolchain.TOOLCHAIN_ENV, "nightly-magic")
    with pytest.raises(HilError, match="HIL_RUST_TOOLCHAIN='nightly-magic'"):
        detect_toolchain(refresh=True)
