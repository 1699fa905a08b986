"""`hil build FOLDER` builds a project's own cargo package by its package name, with the build store in its folder."""
from __future__ import annotations

from pathlib import Path

from hil.cli import main
from hil.deploy.firmware_build import BuildResult
from hil.deploy.firmware_image import FirmwareImage


def test_a_cargo_package_folder_is_built_by_its_package_name(tmp_path, monkeypatch, capsys):
    crate = tmp_path / "blinky"
    crate.mkdir()
    (crate / "Cargo.toml").write_text('[package]\nname = "blinky"\nversion = "0.1.0"\n')
    calls = []

    def fake_build(**kwargs):
        calls.append(kwargs)
        return BuildResult(FirmwareImage(Path("/x/blinky"), Path("/x/blinky.uf2"), "00112233aabbccdd", "blinky"), "t",
                           True, 1.0)
    monkeypatch.setattr("hil.commands.build.build_firmware", fake_build)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "blinky"]) == 0
    assert calls[0]["name"] == "blinky" and calls[0]["source_dir"] == crate.resolve()
    assert "blinky: built in 1.0 s (build 00112233aabbccdd)" in capsys.readouterr().out
