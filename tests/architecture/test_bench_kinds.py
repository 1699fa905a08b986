"""A bench kind plugs in from its own package: through the entry-point group or the in-process hook."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hil.bench import bench_kind as registry
from hil.bench.bench import AttachedBoard, Bench
from hil.bench.bench_factory import open_bench
from hil.bench.bench_kind import BenchKind, register_bench_kind, unregister_bench_kind
from hil.errors import ConfigError
from hil.results.metric import Metric


class ToyBench(Bench):
    def __init__(self, config):
        self.name, self.specs, self.config = config.name, config.specs, config

    def locate_port(self, spec, timeout_s):
        return "loop://"

    def attached(self):
        return [AttachedBoard(s.board_id, s.runtime, "loop://", None, None, "present") for s in self.specs]

    def device_clock_domain(self, runtime):
        return "toy-clock"


def _check_board(entry, path, key):
    if not entry["id"].startswith("toy"):
        raise ConfigError(path, entry.line_of("id"), f"{key}.id", "toy boards are named toy*")


TOY = BenchKind(name="toy", open_bench=ToyBench, clock_domains={"rust": "toy-clock", "micropython": "toy-clock"},
                file_keys={"colour": {"enum": ["red", "blue"]}}, board_keys={"place": {"type": "string"}},
                check_board=_check_board)


@pytest.fixture
def toy_kind():
    register_bench_kind(TOY)
    yield TOY
    unregister_bench_kind("toy")


def test_a_registered_kind_opens_from_its_bench_file_with_its_own_keys(toy_kind, tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text("kind: toy\ncolour: red\nboards:\n  - {id: toy1, runtime: rust, place: desk-3}\n")
    bench = open_bench(str(path))
    assert isinstance(bench, ToyBench)
    assert bench.config.options == {"colour": "red"}
    assert bench.specs[0].extra["place"] == "desk-3"
    assert [s.board_id for s in bench.specs] == ["toy1"]
    assert Metric("t", 1.0, "us", "toy-clock").clock_domain == "toy-clock"


def test_a_kinds_keys_and_board_checks_are_enforced_with_file_and_line(toy_kind, tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text("kind: toy\ncolour: green\nboards:\n  - {id: toy1, runtime: rust}\n")
    with pytest.raises(ConfigError, match=r"toy.yaml:2.*colour"):
        open_bench(str(path))
    path.write_text("kind: toy\nboards:\n  - {id: other, runtime: rust}\n")
    with pytest.raises(ConfigError, match=r"toy.yaml:3.*toy boards are named toy"):
        open_bench(str(path))


def test_another_kinds_key_is_refused_by_a_kind_that_does_not_declare_it(toy_kind, tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text("kind: toy\nlink: none\nboards:\n  - {id: toy1, runtime: rust}\n")
    with pytest.raises(ConfigError, match=r"toy.yaml:2.*link"):
        open_bench(str(path))
    other = tmp_path / "physical.yaml"
    other.write_text("boards:\n  - {id: a, runtime: micropython, serial_number: S, place: desk-3}\n")
    with pytest.raises(ConfigError, match=r"physical.yaml:2.*place"):
        open_bench(str(other))


def test_an_unknown_kind_names_the_installed_ones(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("bench: x\nkind: nosuch\nboards:\n  - {id: a, runtime: rust, serial_number: S, probe: 2e8a:000c}\n")
    with pytest.raises(ConfigError, match=r"b.yaml:2.*unknown bench kind 'nosuch'"):
        open_bench(str(path))


def test_a_clock_no_kind_declares_is_refused():
    with pytest.raises(ValueError, match="unknown clock domain"):
        Metric("t", 1.0, "us", "toy-clock")


def test_a_kind_from_another_package_registers_through_its_entry_point_alone(tmp_path):
    """A package that is not pico-hil publishes a kind; pico-hil's files are untouched and it is found."""
    package = tmp_path / "toybench"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from hil.bench.bench_kind import BenchKind
        def kind():
            return BenchKind(name="toy-ep", open_bench=lambda config: config, clock_domains={"rust": "toy-ep-clock"})
    """))
    dist_info = tmp_path / "toybench-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: toybench\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[hil.bench_kinds]\ntoy-ep = toybench:kind\n")
    probe = ("from hil.bench.bench_kind import bench_kinds, known_clock_domains;"
             "print(sorted(bench_kinds()), 'toy-ep-clock' in known_clock_domains())")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "'toy-ep'" in out.stdout and out.stdout.strip().endswith("True")


def test_a_wrongly_named_entry_point_is_a_config_error(monkeypatch):
    class Point:
        name, value = "a", "pkg:b"

        def load(self):
            return TOY
    monkeypatch.setattr(registry, "_loaded", None)
    monkeypatch.setattr(registry, "entry_points", lambda group: [Point()])
    with pytest.raises(ConfigError, match="must be a BenchKind named 'a'"):
        registry.bench_kinds()


def test_an_installation_without_its_entry_points_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "_registered", {})
    with pytest.raises(ConfigError, match=r"no bench kinds are installed: reinstall pico-hil"):
        open_bench(None)
