"""Artifacts.deploy_files: a MicroPython file list points at a private read-only snapshot, so neither a later edit
nor a change to the sources alters a list already handed to a deployer."""
from __future__ import annotations

import stat

import pytest

from hil.deploy.firmware_image import FirmwareImage
from hil.errors import ConfigError
from hil.scenario.artifacts import EDIT_MODULE, Artifacts


@pytest.fixture
def project(tmp_path):
    scripts = tmp_path / "scripts" / "lib"
    scripts.mkdir(parents=True)
    (scripts.parent / "main.py").write_text("import lib.util\n")
    (scripts / "util.py").write_text("X = 1\n")
    return tmp_path


def contents(pairs):
    return {board_path: local.read_bytes() for local, board_path in pairs}


def test_the_list_maps_the_sources_to_board_paths_with_their_content(project):
    pairs = Artifacts(project).deploy_files(["scripts"])
    assert contents(pairs) == {"/main.py": b"import lib.util\n", "/lib/util.py": b"X = 1\n"}
    assert all(not local.is_relative_to(project) for local, _ in pairs)
    assert all(not local.stat().st_mode & stat.S_IWUSR for local, _ in pairs)


def test_two_edits_give_two_lists_that_each_keep_their_own_stamp(project):
    artifacts = Artifacts(project)
    first = artifacts.deploy_files(["scripts"], edit=True)
    first_contents = contents(first)
    second = artifacts.deploy_files(["scripts"], edit=True)
    assert contents(first) == first_contents
    stamps = [dict((b, l) for l, b in pairs)["/" + EDIT_MODULE].read_text() for pairs in (first, second)]
    assert stamps[0] != stamps[1] and all(s.startswith("STAMP = ") for s in stamps)


def test_changing_a_source_later_does_not_change_a_list_already_made(project):
    artifacts = Artifacts(project)
    before = artifacts.deploy_files(["scripts"])
    (project / "scripts" / "lib" / "util.py").write_text("X = 2\n")
    after = artifacts.deploy_files(["scripts"])
    assert contents(before)["/lib/util.py"] == b"X = 1\n"
    assert contents(after)["/lib/util.py"] == b"X = 2\n"


def test_the_same_content_twice_shares_one_snapshot(project):
    artifacts = Artifacts(project)
    assert artifacts.deploy_files(["scripts"]) == artifacts.deploy_files(["scripts"])


def test_a_missing_entry_is_a_config_error_naming_it(project):
    with pytest.raises(ConfigError, match="nothing_here"):
        Artifacts(project).deploy_files(["nothing_here"])


def test_firmware_features_reach_the_build_and_each_set_is_its_own_build(project, monkeypatch):
    from pathlib import Path as _Path
    from hil.deploy import firmware_build
    calls = []

    def fake_build(name, timeout_s, progress, edit_stamp, features, **_where):   # where: source_dir, project_root
        calls.append((name, edit_stamp, tuple(features)))
        build_id = f"{len(calls):016x}"
        image = FirmwareImage(_Path("/x") / build_id, _Path("/x") / f"{build_id}.uf2", build_id, name=name)
        return firmware_build.BuildResult(image, "t", True, 0.0)

    monkeypatch.setattr(firmware_build, "build_firmware", fake_build)
    artifacts = Artifacts(project)
    plain = artifacts.firmware("lesson")
    handicapped = artifacts.firmware("lesson", ("handicap-sort",))
    assert artifacts.firmware("lesson", ("handicap-sort",)) is handicapped   # built once per process
    assert plain.build_id != handicapped.build_id
    assert calls == [("lesson", None, ()), ("lesson", None, ("handicap-sort",))]
    artifacts.build("lesson", edit=True, features=("handicap-sort",))
    assert calls[-1][0] == "lesson" and calls[-1][1] and calls[-1][2] == ("handicap-sort",)


def test_the_edit_module_is_known_by_its_board_path(project):
    pairs = Artifacts(project).deploy_files(["scripts"], edit=True)
    assert [board for _, board in pairs if Artifacts.is_edit_module(board)] == ["/" + EDIT_MODULE]
