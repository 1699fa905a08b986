"""The simulator's npm packages: used in place when a checkout has them, else installed once into the per-user
cache (with a progress line), and a clear error naming `hil sim install` when node or npm is missing."""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from hil.errors import ToolMissing
from hil.sim import node_packages

FAKE_NPM = """#!{python}
# Stands in for `npm ci`: installs every dependency of package.json as node_modules/<name>/package.json.
import json, os, sys
assert sys.argv[1:2] == ["ci"], sys.argv
with open("npm-calls", "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
for name, version in json.load(open("package.json"))["dependencies"].items():
    os.makedirs(os.path.join("node_modules", name), exist_ok=True)
    json.dump({{"name": name, "version": version}}, open(os.path.join("node_modules", name, "package.json"), "w"))
"""


@pytest.fixture
def node_source(tmp_path):
    source = tmp_path / "node"
    source.mkdir()
    (source / "package.json").write_text(json.dumps({"dependencies": {"rp2040js": "1.4.1"}}))
    (source / "package-lock.json").write_text("{}")
    (source / "board.mjs").write_text("import 'rp2040js';\n")
    return source


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """A PATH with a fake npm and a fake node only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    node = bin_dir / "node"
    node.write_text("#!/bin/sh\nexit 0\n")
    node.chmod(node.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))
    return bin_dir


def test_first_use_installs_into_the_cache_once_with_a_progress_line(node_source, fake_tools, tmp_path):
    lines = []
    folder = node_packages.ensure_installed(progress=lines.append, source_dir=node_source)
    assert folder.parent == tmp_path / "cache" / "sim-node"
    assert (folder / "board.mjs").read_text() == "import 'rp2040js';\n"   # the scripts run beside the packages
    assert json.loads((folder / "node_modules" / "rp2040js" / "package.json").read_text())["version"] == "1.4.1"
    assert len(lines) == 2 and "installing the simulator's npm packages (rp2040js@1.4.1)" in lines[0]
    assert (folder / "npm-calls").read_text().startswith("ci ")

    again = []
    assert node_packages.ensure_installed(progress=again.append, source_dir=node_source) == folder
    assert again == [] and (folder / "npm-calls").read_text().count("ci") == 1   # nothing ran the second time


def test_changed_scripts_get_their_own_cache_folder(node_source, fake_tools):
    first = node_packages.ensure_installed(progress=lambda _line: None, source_dir=node_source)
    (node_source / "board.mjs").write_text("import 'rp2040js'; // changed\n")
    second = node_packages.ensure_installed(progress=lambda _line: None, source_dir=node_source)
    assert second != first and "changed" in (second / "board.mjs").read_text()


def test_a_checkout_with_the_packages_installed_is_used_in_place(node_source, fake_tools):
    (node_source / "node_modules" / "rp2040js").mkdir(parents=True)
    (node_source / "node_modules" / "rp2040js" / "package.json").write_text('{"version": "1.4.1"}')
    assert node_packages.ensure_installed(source_dir=node_source) == node_source
    (node_source / "node_modules" / "rp2040js" / "package.json").write_text('{"version": "1.0.0"}')   # stale
    assert node_packages.ready_dir(node_source) is None


@pytest.mark.parametrize("missing", ["npm", "node"])
def test_missing_node_or_npm_is_one_error_naming_the_install_command(node_source, fake_tools, missing):
    os.unlink(fake_tools / missing)
    with pytest.raises(ToolMissing) as raised:
        node_packages.ensure_installed(progress=lambda _line: None, source_dir=node_source)
    assert raised.value.tool == missing
    assert "hil sim install" in str(raised.value) and "apt-get install nodejs npm" in str(raised.value)


def test_hil_sim_install_installs_and_reports_the_versions(node_source, fake_tools, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(node_packages, "NODE_SOURCE_DIR", node_source)
    from hil.cli import main
    assert main(["sim", "install"]) == 0
    folder = node_packages.cached_dir()
    assert folder.parent == tmp_path / "cache" / "sim-node" and (folder / node_packages.READY_MARK).is_file()
    captured = capsys.readouterr()
    assert "installing the simulator's npm packages" in captured.err
    assert f"simulator packages: rp2040js 1.4.1 in {folder}" in captured.out
