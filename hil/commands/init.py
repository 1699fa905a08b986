"""`hil init [DIR]`: scaffold a project that uses pico-hil: a bench file to edit, an example MicroPython module,
scenario and pytest test using the board fixtures, the pytest settings, and a CI workflow. Never overwrites a file:
an existing one is kept and named in the output.
"""
from __future__ import annotations

import argparse
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "project_template"
# (template file, where it goes in the project)
FILES = (
    ("bench.yaml", "bench.yaml"),
    ("hello.py.tmpl", "micropython/hello.py"),
    ("example.yaml.tmpl", "scenarios/example.yaml"),
    ("test_example.py.tmpl", "tests/test_example.py"),
    ("workflow.yml.tmpl", ".github/workflows/hil.yml"),
)
PYTEST_SETTINGS = ("pytest.ini.tmpl", "pytest.ini")
# Files where pytest may already find its settings: a pytest.ini written beside them would shadow them.
OTHER_PYTEST_CONFIGS = (("pyproject.toml", "[tool.pytest.ini_options]"), ("tox.ini", "[pytest]"),
                        ("setup.cfg", "[tool:pytest]"))


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("init", help="scaffold a project: bench file, example scenario and test, CI",
                                   description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=Path("."), help="the project (default: here)")
    parser.set_defaults(func=run)


def _existing_pytest_config(root: Path) -> Path | None:
    for name, section in OTHER_PYTEST_CONFIGS:
        path = root / name
        if path.is_file() and section in path.read_text(encoding="utf-8", errors="replace"):
            return path
    return None


def scaffold(root: Path) -> tuple[list[Path], list[Path], str | None]:
    """Writes the files that do not exist yet; returns (written, kept, a note about the pytest settings)."""
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    kept: list[Path] = []
    settings_text = (TEMPLATE_DIR / PYTEST_SETTINGS[0]).read_text(encoding="utf-8")
    note = None
    files = list(FILES)
    other = _existing_pytest_config(root)
    if other is None:
        files.append(PYTEST_SETTINGS)
    else:
        note = (f"pytest reads its settings from {other}: add these keys there (a pytest.ini would hide it):\n"
                + "".join(f"  {line}\n" for line in settings_text.splitlines()[1:] if line.strip()))
    for template, target in files:
        path = root / target
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as file:   # "x": never replaces a file that appeared meanwhile
            file.write((TEMPLATE_DIR / template).read_text(encoding="utf-8"))
        written.append(path)
    return written, kept, note


def run(args: argparse.Namespace) -> int:
    root = args.directory
    written, kept, note = scaffold(root)
    for path in written:
        print(f"wrote {path}")
    for path in kept:
        print(f"kept {path} (exists; not overwritten)")
    if note:
        print(note, end="")
    print(f"next: cd {root} && pytest -m hil   (the example test and scenario, on the default bench)")
    return 0
