"""`hil init`: scaffolds a project and never overwrites a file."""
from __future__ import annotations

from hil.cli import main
from hil.commands.init import FILES
from hil.scenario.scenario_file import load_scenario
from hil.bench.bench_file import load_bench_file

SCAFFOLD = {"bench.yaml", "micropython/hello.py", "scenarios/example.yaml", "tests/test_example.py",
            ".github/workflows/hil.yml", "pytest.ini"}


def test_init_writes_a_project_whose_files_are_valid(tmp_path, capsys):
    assert main(["init", str(tmp_path)]) == 0
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == SCAFFOLD
    assert load_bench_file(tmp_path / "bench.yaml").specs[0].runtime == "rust"
    assert load_scenario(tmp_path / "scenarios" / "example.yaml", tmp_path).boards["mpy"].deploy == ["micropython"]
    assert "hil_deploy = micropython" in (tmp_path / "pytest.ini").read_text()
    compile((tmp_path / "tests" / "test_example.py").read_text(), "test_example.py", "exec")
    assert capsys.readouterr().out.count("wrote ") == len(SCAFFOLD)


def test_init_keeps_every_existing_file(tmp_path, capsys):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_example.py").write_text("mine\n")
    (tmp_path / "bench.yaml").write_text("mine too\n")
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "tests" / "test_example.py").read_text() == "mine\n"
    assert (tmp_path / "bench.yaml").read_text() == "mine too\n"
    out = capsys.readouterr().out
    assert f"kept {tmp_path / 'bench.yaml'} (exists; not overwritten)" in out
    assert main(["init", str(tmp_path)]) == 0   # a second run writes nothing
    assert capsys.readouterr().out.count("wrote ") == 0
    assert len(FILES) + 1 == len(SCAFFOLD)


def test_init_beside_a_pyproject_with_pytest_settings_says_what_to_add_instead_of_hiding_it(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-q'\n")
    assert main(["init", str(tmp_path)]) == 0
    assert not (tmp_path / "pytest.ini").exists()
    out = capsys.readouterr().out
    assert "pytest reads its settings from" in out and "hil_deploy = micropython" in out
