"""The import rules of docs/architecture.md, checked on the source: no module imports a layer above its own, and
nothing outside hil/sim/ names the simulator (its kind, clocks and commands come through the bench-kind registry).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Bottom to top, as docs/architecture.md draws them. A module may import its own layer and the ones below.
LAYERS: list[tuple[str, ...]] = [
    ("hil.errors", "hil.deadline", "hil.process", "hil.yamlfile", "hil.user_file", "hil.number_option"),
    ("hil.transport", "hil.deploy"),
    ("hil.bench", "hil.sim", "hil.labgrid"),   # benches; each bench kind lives in its own package
    ("hil.results",),
    ("hil.board",),
    ("hil.run_context",),
    ("hil.scenario",),
    ("hil.plugin", "hil.run_settings", "hil.commands", "hil.cli", "hil.labgrid_pytest_plugin"),
    ("fixtures", "conftest"),
]
SIM_PACKAGE = "hil.sim"
# What names the simulator: its kind, its clock domains, its bench class, its engine.
SIM_WORDS = ("sim", "rp2040js-virtual", "wasm-host", "SimBench", "rp2040js")


def layer_of(module: str) -> int | None:
    if module == "hil":   # the package itself (its __init__ imports nothing)
        return 0
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import anywhere in the file, lazy ones in functions included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:   # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from hil import sim` imports the module hil.sim; `from hil.x import Y` imports hil.x.
            found += ([(node.lineno, f"{target}.{alias.name}") for alias in node.names] if target == "hil"
                      else [(node.lineno, target)])
    return found


def source_files(root: Path):
    yield from sorted((root / "hil").rglob("*.py"))
    yield from sorted((root / "fixtures").rglob("*.py"))
    yield root / "conftest.py"


def upward_imports(root: Path) -> list[str]:
    problems = []
    for path in source_files(root):
        if not path.exists():
            continue
        module = module_name(path, root)
        own = layer_of(module)
        if own is None:
            problems.append(f"{path.relative_to(root)}: in no layer of docs/architecture.md")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            theirs = layer_of(target)
            if theirs is not None and theirs > own:
                problems.append(f"{path.relative_to(root)}:{line}: {module} (layer {own}) imports {target} "
                                f"(layer {theirs})")
    return sorted(set(problems))


def sim_mentions(root: Path) -> list[str]:
    """Code outside hil/sim/ that imports it or names it in a string (docstrings and comments are prose)."""
    problems = []
    for path in source_files(root):
        if not path.exists():
            continue
        module = module_name(path, root)
        if module == SIM_PACKAGE or module.startswith(SIM_PACKAGE + "."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            if target == SIM_PACKAGE or target.startswith(SIM_PACKAGE + "."):
                problems.append(f"{path.relative_to(root)}:{line}: imports {target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                words = node.value.replace("'", " ").replace('"', " ").replace("(", " ").replace(")", " ").split()
                hits = [w for w in SIM_WORDS if w in words or (len(w) > 3 and w in node.value)]
                if hits:
                    problems.append(f"{path.relative_to(root)}:{node.lineno}: names {hits[0]!r}")
            elif isinstance(node, ast.Name) and node.id in SIM_WORDS:
                problems.append(f"{path.relative_to(root)}:{node.lineno}: names {node.id}")
    return sorted(set(problems))


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(PROJECT_ROOT) == []


def test_nothing_outside_the_sim_package_names_the_simulator():
    assert sim_mentions(PROJECT_ROOT) == []


@pytest.fixture
def toy_tree(tmp_path):
    for folder in ("hil/board", "hil/bench", "hil/sim", "fixtures"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "hil" / "__init__.py").write_text("")
    (tmp_path / "conftest.py").write_text("")
    return tmp_path


def test_the_layer_check_catches_an_upward_import_even_inside_a_function(toy_tree):
    (toy_tree / "hil/bench/b.py").write_text("def f():\n    from hil.board.x import Board\n")
    (toy_tree / "hil/board/ok.py").write_text("from hil.bench import b\n")
    assert upward_imports(toy_tree) == [
        "hil/bench/b.py:2: hil.bench.b (layer 2) imports hil.board.x (layer 4)"]


def test_the_layer_check_catches_a_module_in_no_layer(toy_tree):
    (toy_tree / "hil/newthing.py").write_text("")
    assert upward_imports(toy_tree) == ["hil/newthing.py: in no layer of docs/architecture.md"]


def test_the_sim_check_catches_an_import_a_kind_name_and_a_clock_but_not_prose(toy_tree):
    (toy_tree / "hil/bench/b.py").write_text(
        '"""Works with the simulated bench and the sim."""\n'
        "from hil.sim.sim_bench import SimBench\n"
        "KIND = 'sim'\n"
        "CLOCK = 'rp2040js-virtual'\n"
        "# the sim's clock is fine in a comment\n")
    (toy_tree / "hil/sim/inside.py").write_text("KIND = 'sim'\n")
    assert sim_mentions(toy_tree) == ["hil/bench/b.py:2: imports hil.sim.sim_bench",
                                      "hil/bench/b.py:3: names 'sim'",
                                      "hil/bench/b.py:4: names 'rp2040js-virtual'"]
