"""`build_firmware`: cargo runs only when an input changed; the ELF gets its build id and a UF2 is written, and
every build is stored under its own id, never rewritten, pruned beyond a limit unless a live process holds it.

cargo is replaced by tests/firmware/fake_cargo.py here (the real build is covered by test_lesson_firmware.py).
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hil.deploy.build_id import UNPATCHED_ID_HEX, embedded_build_id
from hil.deploy.elf_image import ElfImage
from hil.deploy.firmware_build import FirmwareBuildFailed, build_firmware, latest_build, store_dir
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
    stored = project / "firmware_rust" / "target" / "hil-builds" / "lesson" / result.image.build_id
    assert (result.image.elf_path, result.image.uf2_path) == (stored / "lesson", stored / "lesson.uf2")
    assert result.rebuilt is True
    [call] = cargo_calls(project)
    assert call["argv"][:2] == ["build", "--release"]
    assert call["argv"][call["argv"].index("--target") + 1] == "thumbv6m-none-eabi"
    assert call["rustc"] == "/fake/rustc"
    assert any("toolchain: prebuilt" in m for m in messages)
    assert any("Compiling lesson" in m for m in messages)      # cargo's progress is passed on


def test_the_elf_carries_its_build_id_and_the_uf2_matches_it(project, toolchain):
    result, _ = build(project, toolchain)
    elf = ElfImage.read(result.image.elf_path)
    assert embedded_build_id(elf) == result.image.build_id != UNPATCHED_ID_HEX
    family, pages = read_uf2(result.image.uf2_path)
    assert family == RP2040_FAMILY_ID
    flash = b"".join(pages[address] for address in sorted(pages) if address < 0x1000_1000)
    assert b"LESSONID" + bytes.fromhex(result.image.build_id) in flash


def test_a_second_build_with_nothing_changed_runs_nothing(project, toolchain):
    first, _ = build(project, toolchain)
    second, messages = build(project, toolchain)
    assert second.rebuilt is False
    assert second.image.build_id == first.image.build_id
    assert len(cargo_calls(project)) == 1
    assert any("up to date" in m for m in messages)


def test_a_changed_source_file_rebuilds_with_a_new_id(project, toolchain):
    first, _ = build(project, toolchain)
    (project / "firmware_rust" / "lesson" / "src" / "main.rs").write_text("fn main() { loop {} }\n")
    second, _ = build(project, toolchain)
    assert second.rebuilt is True
    assert second.image.build_id != first.image.build_id
    assert len(cargo_calls(project)) == 2


def test_an_edit_stamp_reaches_the_compiler_and_changes_the_image(project, toolchain):
    plain, _ = build(project, toolchain)
    edited, _ = build(project, toolchain, edit_stamp="edit-1")
    assert edited.rebuilt is True and edited.image.build_id != plain.image.build_id
    assert [c["edit_stamp"] for c in cargo_calls(project)] == [None, "edit-1"]


def test_outputs_changed_behind_the_builds_back_are_rebuilt(project, toolchain):
    first, _ = build(project, toolchain)
    first.image.uf2_path.chmod(0o644)
    first.image.uf2_path.write_bytes(b"not the build's uf2")
    second, _ = build(project, toolchain)
    assert second.rebuilt is True
    assert second.image.build_id == first.image.build_id
    assert read_uf2(second.image.uf2_path)[0] == RP2040_FAMILY_ID


def test_a_failing_compile_is_reported_with_cargo_output_and_leaves_no_record(project, toolchain):
    (project / "firmware_rust" / "FAIL").write_text("")
    with pytest.raises(FirmwareBuildFailed, match="cannot find value") as failure:
        build(project, toolchain)
    assert "prebuilt" in str(failure.value)
    (project / "firmware_rust" / "FAIL").unlink()
    result, _ = build(project, toolchain)
    assert result.rebuilt is True


def snapshot(result) -> tuple[bytes, bytes]:
    return result.image.elf_path.read_bytes(), result.image.uf2_path.read_bytes()


def test_builds_with_different_edit_stamps_each_keep_their_own_intact_images(project, toolchain):
    plain, _ = build(project, toolchain)
    plain_bytes = snapshot(plain)
    edited, _ = build(project, toolchain, edit_stamp="edit-1")
    assert edited.image.build_id != plain.image.build_id
    assert edited.image.elf_path.parent != plain.image.elf_path.parent
    assert snapshot(plain) == plain_bytes                   # the edited build did not touch the plain one
    for result in (plain, edited):
        assert embedded_build_id(ElfImage.read(result.image.elf_path)) == result.image.build_id
        flash = b"".join(pages for _address, pages in sorted(read_uf2(result.image.uf2_path)[1].items()))
        assert b"LESSONID" + bytes.fromhex(result.image.build_id) in flash


def test_going_back_to_earlier_inputs_reuses_the_stored_build_without_cargo(project, toolchain):
    plain, _ = build(project, toolchain)
    build(project, toolchain, edit_stamp="edit-1")
    again, messages = build(project, toolchain)
    assert (again.image, again.rebuilt) == (plain.image, False)
    assert len(cargo_calls(project)) == 2
    assert latest_build("lesson", project_root=project).image.build_id == plain.image.build_id


def test_stored_images_are_read_only(project, toolchain):
    result, _ = build(project, toolchain)
    for path in (result.image.elf_path, result.image.uf2_path):
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert stat.S_IMODE(result.image.elf_path.parent.stat().st_mode) == 0o755     # readable by every user of the bench


def hold_in_another_process(result) -> subprocess.Popen:
    """A live process that holds `result` as a build would hand it out (its pid file among the holders)."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    (result.image.elf_path.parent / "holders" / str(holder.pid)).touch()
    return holder


def test_old_builds_are_pruned_beyond_the_limit_but_not_one_a_live_process_holds(project, toolchain):
    first, _ = build(project, toolchain, edit_stamp="edit-0", keep_builds=2)
    held = hold_in_another_process(first)
    try:
        (first.image.elf_path.parent / "holders" / str(os.getpid())).unlink()      # only the other process holds it
        results = [build(project, toolchain, edit_stamp=f"edit-{n}", keep_builds=2)[0] for n in range(1, 4)]
        stored = {p.name for p in store_dir("lesson", project).iterdir() if p.is_dir() and p.name != "by-input"}
        # this process holds every build it was handed, so nothing is pruned yet: all four are still stored
        assert stored == {first.image.build_id, *(r.image.build_id for r in results)}
        for result in results[:2]:
            (result.image.elf_path.parent / "holders" / str(os.getpid())).unlink()
        build(project, toolchain, edit_stamp="edit-3", keep_builds=2)
        stored = {p.name for p in store_dir("lesson", project).iterdir() if p.is_dir() and p.name != "by-input"}
        # the two most recently used stay, and the oldest too because a live process holds it
        assert stored == {first.image.build_id, results[1].image.build_id, results[2].image.build_id}
        assert snapshot(first)[0] == first.image.elf_path.read_bytes()
    finally:
        held.stdin.close()
        held.wait(timeout=TIMEOUT_S)
    # a holder that has exited holds nothing
    assert (first.image.elf_path.parent / "holders" / str(held.pid)).exists()
    build(project, toolchain, edit_stamp="edit-3", keep_builds=1)
    assert not first.image.elf_path.parent.exists()


def test_cargo_features_reach_cargo_and_make_a_build_of_their_own(project, toolchain):
    plain, _ = build(project, toolchain)
    handicapped, _ = build(project, toolchain, features=("handicap-sort",))
    argv = cargo_calls(project)[-1]["argv"]
    assert argv[argv.index("--features") + 1] == "handicap-sort"
    assert "--features" not in cargo_calls(project)[0]["argv"]
    assert handicapped.rebuilt is True
    # not the handicapped one
    assert latest_build("lesson", project_root=project).image.build_id == plain.image.build_id
