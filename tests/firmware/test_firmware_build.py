"""`build_firmware`: cargo runs only when an input changed; the ELF gets its build id and a UF2 is written.

cargo is replaced by tests/firmware/fake_cargo.py here (the real build is covered by test_lesson_firmware.py).
"""
from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from hil.deploy.build_id import UNPATCHED_ID_HEX, embedded_build_id
from hil.deploy.elf_image import ElfImage
from hil.deploy.firmware_build import FirmwareBuildFailed, build_firmware
from hil.deploy.rust_toolchain import RustToolchain
from hil.deploy.uf2 import RP2040_FAMILY_ID, read_uf2

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60.0


@pytest.fixture
def project(tmp_path, monkeypatch):
    firmware = tmp_path / "firmware_rust"
    (firmware / "lesson" / "src").mkdir(parents=True)
    (firmware / "Cargo.toml").write_text("[workspace]\n")
    (firmware / "lesson" / "src" / "main.rs").write_text("fn main() {}\n")
    monkeypatch.setenv("FAKE_CARGO_REPO", str(REPO))
    return tmp_path


@pytest.fixture
def toolchain(tmp_path):
    cargo = tmp_path / "cargo"
    cargo.write_text(f"#!{sys.executable}\nimport runpy, sys\n"
                     f"runpy.run_path({str(REPO / 'tests' / 'firmware' / 'fake_cargo.py')!r}, run_name='__main__')\n")
    cargo.chmod(cargo.stat().st_mode | stat.S_IEXEC)
    return RustToolchain("prebuilt", str(cargo), "/fake/rustc", "rustc 0.0.0 (fake)")


def cargo_calls(project: Path) -> list[dict]:
    log = project / "cargo-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def build(project, toolchain, **kwargs):
    messages: list[str] = []
    result = build_firmware("lesson", TIMEOUT_S, progress=messages.append, project_root=project,
                            toolchain=toolchain, **kwargs)
    return result, messages


def test_a_first_build_runs_cargo_for_the_pico_target_and_leaves_elf_and_uf2(project, toolchain):
    result, messages = build(project, toolchain)
    release = project / "firmware_rust" / "target" / "thumbv6m-none-eabi" / "release"
    assert (result.elf_path, result.uf2_path) == (release / "lesson", release / "lesson.uf2")
    assert result.rebuilt is True
    [call] = cargo_calls(project)
    assert call["argv"][:2] == ["build", "--release"]
    assert call["argv"][call["argv"].index("--target") + 1] == "thumbv6m-none-eabi"
    assert call["rustc"] == "/fake/rustc"
    assert any("toolchain: prebuilt" in m for m in messages)
    assert any("Compiling lesson" in m for m in messages)      # cargo's progress is passed on


def test_the_elf_carries_its_build_id_and_the_uf2_matches_it(project, toolchain):
    result, _ = build(project, toolchain)
    elf = ElfImage.read(result.elf_path)
    assert embedded_build_id(elf) == result.build_id != UNPATCHED_ID_HEX
    family, pages = read_uf2(result.uf2_path)
    assert family == RP2040_FAMILY_ID
    flash = b"".join(pages[address] for address in sorted(pages) if address < 0x1000_1000)
    assert b"LESSONID" + bytes.fromhex(result.build_id) in flash


def test_a_second_build_with_nothing_changed_runs_nothing(project, toolchain):
    first, _ = build(project, toolchain)
    second, messages = build(project, toolchain)
    assert second.rebuilt is False
    assert second.build_id == first.build_id
    assert len(cargo_calls(project)) == 1
    assert any("up to date" in m for m in messages)


def test_a_changed_source_file_rebuilds_with_a_new_id(project, toolchain):
    first, _ = build(project, toolchain)
    (project / "firmware_rust" / "lesson" / "src" / "main.rs").write_text("fn main() { loop {} }\n")
    second, _ = build(project, toolchain)
    assert second.rebuilt is True
    assert second.build_id != first.build_id
    assert len(cargo_calls(project)) == 2


def test_an_edit_stamp_reaches_the_compiler_and_changes_the_image(project, toolchain):
    plain, _ = build(project, toolchain)
    edited, _ = build(project, toolchain, edit_stamp="edit-1")
    assert edited.rebuilt is True and edited.build_id != plain.build_id
    assert [c["edit_stamp"] for c in cargo_calls(project)] == [None, "edit-1"]


def test_outputs_changed_behind_the_builds_back_are_rebuilt(project, toolchain):
    first, _ = build(project, toolchain)
    first.uf2_path.write_bytes(b"not the build's uf2")
    second, _ = build(project, toolchain)
    assert second.rebuilt is True
    assert read_uf2(second.uf2_path)[0] == RP2040_FAMILY_ID


def test_a_failing_compile_is_reported_with_cargo_output_and_leaves_no_record(project, toolchain):
    (project / "firmware_rust" / "FAIL").write_text("")
    with pytest.raises(FirmwareBuildFailed, match="cannot find value") as failure:
        build(project, toolchain)
    assert "prebuilt" in str(failure.value)
    (project / "firmware_rust" / "FAIL").unlink()
    result, _ = build(project, toolchain)
    assert result.rebuilt is True
