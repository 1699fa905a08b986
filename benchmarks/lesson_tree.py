"""The tree of lesson scripts the deploy benchmarks copy: the lesson's own scripts plus one 100 KB file.

Two variants: `python` (the 100 KB file is Python source, as a lesson's data module would be) and `binary`
(100 KB of random bytes, which no encoding can shrink). Generated deterministically, so every run copies the
same bytes.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

LESSON_SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "scripts_micropython" / "lesson"
LARGE_FILE_BYTES = 100 * 1024
LARGE_FILE_FOLDER = "lib"
SEED = 2040
VARIANTS = ("python", "binary")


def large_python_source(size_bytes: int = LARGE_FILE_BYTES, seed: int = SEED) -> bytes:
    """Python source of exactly size_bytes: functions and lookup tables like a lesson's data module."""
    rng = random.Random(seed)
    parts = ['"""Lookup tables and helpers for the lesson exercises (generated)."""\n\n']
    index = 0
    while sum(map(len, parts)) < size_bytes:
        table = ", ".join(str(rng.randrange(65536)) for _ in range(16))
        parts.append(f"TABLE_{index} = ({table},)\n\n\n"
                     f"def lookup_{index}(i):\n"
                     f"    \"\"\"Entry i of table {index}, wrapping around.\"\"\"\n"
                     f"    return TABLE_{index}[i % len(TABLE_{index})]\n\n\n")
        index += 1
    text = "".join(parts).encode("ascii")[:size_bytes]
    return text[:text.rfind(b"\n") + 1].ljust(size_bytes, b"#")


def large_binary(size_bytes: int = LARGE_FILE_BYTES, seed: int = SEED) -> bytes:
    return random.Random(seed).randbytes(size_bytes)


def write_tree(root: Path, variant: str) -> Path:
    """Writes the tree under root/<variant>/ and returns that folder."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown tree variant {variant!r}, expected one of {VARIANTS}")
    tree = Path(root) / variant
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    for script in sorted(LESSON_SCRIPTS_DIR.glob("*.py")):
        shutil.copyfile(script, tree / script.name)
    large = tree / LARGE_FILE_FOLDER
    large.mkdir()
    if variant == "python":
        (large / "lesson_tables.py").write_bytes(large_python_source())
    else:
        (large / "lesson_blob.bin").write_bytes(large_binary())
    return tree


def tree_files(tree: Path) -> list[Path]:
    return sorted(p for p in Path(tree).rglob("*") if p.is_file())


def tree_size_bytes(tree: Path) -> int:
    return sum(p.stat().st_size for p in tree_files(tree))
