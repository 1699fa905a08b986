"""Firmware by path: an ELF or UF2 file of the project (a private read-only copy, its build id read from the image),
a cargo package folder (built with the build store), or a binary name of the project's firmware_rust/."""
from __future__ import annotations

import shutil
import stat
import textwrap

import pytest

from hil.deploy.build_id import BuildIdSlotMissing
from hil.deploy.firmware_build import latest_build
from hil.errors import ConfigError
from hil.scenario.artifacts import Artifacts
from hil.scenario.scenario_file import load_scenario


@pytest.fixture(scope="module")
def lesson_build():
    build = latest_build("lesson")
    if build is None:
        pytest.skip("no stored lesson build: run `hil build` (./run does)")
    return build.image


def test_an_elf_of_the_project_is_flashed_from_a_private_copy_with_its_build_id(tmp_path, lesson_build):
    elf = tmp_path / "out" / "app.elf"
    elf.parent.mkdir()
    shutil.copyfile(lesson_build.elf_path, elf)
    image = Artifacts(tmp_path).firmware("out/app.elf")
    assert image.build_id == lesson_build.build_id
    assert image.elf_path.read_bytes() == elf.read_bytes() and not image.elf_path.is_relative_to(tmp_path)
    assert not image.elf_path.stat().st_mode & stat.S_IWUSR
    assert image.uf2_path.read_bytes() == lesson_build.uf2_path.read_bytes()   # the UF2 made beside it
    elf.write_bytes(b"rebuilt later")   # the copy handed out does not change
    assert image.elf_path.read_bytes() == lesson_build.elf_path.read_bytes()


def test_a_uf2_of_the_project_carries_its_build_id_and_no_elf(tmp_path, lesson_build):
    shutil.copyfile(lesson_build.uf2_path, tmp_path / "app.uf2")
    image = Artifacts(tmp_path).firmware("app.uf2")
    assert (image.build_id, image.elf_path) == (lesson_build.build_id, None)
    assert image.path_for((".elf", ".uf2")) == image.uf2_path


def test_an_elf_without_a_build_id_slot_is_refused_naming_the_file(tmp_path, lesson_build):
    (tmp_path / "other.uf2").write_bytes(lesson_build.uf2_path.read_bytes().replace(b"LESSONID", b"XXXXXXXX"))
    with pytest.raises(BuildIdSlotMissing, match="other.uf2"):
        Artifacts(tmp_path).firmware("other.uf2")


def test_a_cargo_package_folder_is_built_by_its_package_name(tmp_path, monkeypatch):
    crate = tmp_path / "fw" / "blinky"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "blinky"\nversion = "0.1.0"\n')
    calls = []

    def fake_build(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("stop here")
    monkeypatch.setattr("hil.deploy.firmware_build.build_firmware", fake_build)
    with pytest.raises(RuntimeError, match="stop here"):
        Artifacts(tmp_path).firmware("fw/blinky")
    assert calls[0]["name"] == "blinky" and calls[0]["source_dir"] == crate.resolve()


@pytest.mark.parametrize("reference, message", [
    ("missing/app.elf", "no such ELF, UF2 or cargo package folder"),
    ("empty", "is a folder without Cargo.toml"),
    ("workspace", "no \\[package\\] name \\(a workspace root"),
])
def test_a_bad_reference_is_a_config_error(tmp_path, reference, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "Cargo.toml").write_text('[workspace]\nmembers = ["a"]\n')
    with pytest.raises(ConfigError, match=message):
        Artifacts(tmp_path).firmware(reference)


def test_an_edit_needs_a_firmware_built_from_source(tmp_path, lesson_build):
    shutil.copyfile(lesson_build.elf_path, tmp_path / "app.elf")
    with pytest.raises(ConfigError, match="an edit needs firmware built from source"):
        Artifacts(tmp_path).build("app.elf", edit=True)


def test_a_scenario_naming_a_missing_firmware_file_fails_at_load_with_its_line(tmp_path):
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        scenario: s
        claim: c
        boards:
          rust:
            runtime: rust
            firmware: build/app.elf
        steps:
          - {on: rust, command: ping}
    """))
    with pytest.raises(ConfigError) as raised:
        load_scenario(tmp_path / "s.yaml", tmp_path)
    assert raised.value.line == 6 and "build/app.elf does not exist" in str(raised.value)
