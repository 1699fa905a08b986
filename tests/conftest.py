"""The `slow` marker by folder: the inner loop (`pytest tests -m "not slow"`) leaves out what needs the simulator,
builds firmware, or starts whole pytest runs in subprocesses. Also the fixtures several test folders share."""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
SLOW_FOLDERS = {"lesson", "scale", "faults", "sim_bench", "sim_micropython", "sim_rust", "benchmarks"}
SLOW_MODULES = {"deploy/test_through_sim_bench.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            relative = Path(item.path).resolve().relative_to(TESTS_DIR)
        except ValueError:
            continue
        if relative.parts[0] in SLOW_FOLDERS or relative.as_posix() in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def lock_dir(tmp_path, monkeypatch) -> Path:
    """Board locks of this test only (a real run uses one folder per host, so runs never share a board)."""
    path = tmp_path / "locks"
    path.mkdir()
    monkeypatch.setenv("HIL_LOCK_DIR", str(path))
    return path
