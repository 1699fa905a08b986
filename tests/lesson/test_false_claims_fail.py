"""A claim's scenario must fail when the claim is false. Each test edits one lesson scenario the way a sceptic would
(a Rust sort made ~30x slower through the firmware's handicap-sort feature; a MemoryError allocation made small),
runs it on the simulated bench in a pytest subprocess, and checks the run fails with a message that names the
claim, the measured value and the bound, and that the results keep the verdict "fails"."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 900
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="the simulated bench needs Node.js")


def run_edited_scenario(tmp_path: Path, name: str, old: str, new: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs scenarios/NAME with `old` replaced by `new`, in a project folder of its own holding the lesson scripts."""
    text = (PROJECT_ROOT / "scenarios" / name).read_text()
    assert old in text, f"scenarios/{name} no longer contains {old!r}"
    project = tmp_path / "project"
    (project / "scenarios").mkdir(parents=True)
    (project / "scenarios" / name).write_text(text.replace(old, new))
    shutil.copytree(PROJECT_ROOT / "scripts_micropython", project / "scripts_micropython")
    (project / "pytest.ini").write_text("[pytest]\n")
    results = tmp_path / "results.json"
    env = dict(os.environ, HIL_SIM_DIR=str(tmp_path / "sim"), HIL_LOCK_DIR=str(tmp_path / "locks"))
    env.pop("HIL_BENCH", None)
    argv = [sys.executable, "-m", "pytest", "-m", "hil", "-p", "no:cacheprovider", "-q", f"--rootdir={project}",
            f"--hil-results={results}", str(project / "scenarios" / name)]
    completed = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    claims = json.loads(results.read_text())["claims"] if results.exists() else []
    assert len(claims) == 1, completed.stdout[-3000:] + completed.stderr[-2000:]
    return completed, claims[0]


def test_a_rust_sort_made_30x_slower_fails_the_compute_claim(tmp_path):
    completed, claim = run_edited_scenario(
        tmp_path, "compute_throughput.yaml",
        "rust: {runtime: rust, firmware: lesson}",
        "rust: {runtime: rust, firmware: {package: lesson, features: [handicap-sort]}}")
    output = completed.stdout
    assert completed.returncode == 1, output[-3000:]
    assert "claim not upheld: Rust is much faster than MicroPython" in output
    assert "mpy_sort_us / rust_sort_us = " in output and "expected between 71 and 161" in output
    assert "(lesson: 107)" in output
    assert claim["verdict"] == "fails"
    sort = next(a for a in claim["assertions"] if a["subject"] == ["mpy_sort_us", "rust_sort_us"])
    assert sort["status"] == "failed" and sort["value"] < 71 and sort["bound"] == [71, 161]
    # the other kernels are not handicapped: only the sort's claim fails
    assert [a["status"] for a in claim["assertions"]].count("failed") == 1


def test_an_allocation_that_fits_in_the_heap_fails_the_free_memory_claim(tmp_path):
    completed, claim = run_edited_scenario(tmp_path, "memory.yaml", 'exec: "memory.big(300 * 1024)"',
                                           'exec: "memory.big(1024)"')
    output = completed.stdout
    assert completed.returncode == 1, output[-3000:]
    assert "claim not upheld: MicroPython allocates from a garbage-collected heap" in output
    assert "mpy_big_block_result=ok" in output and "expected 'MemoryError'" in output
    assert "mpy_big_block_bytes=1024 bytes [none] greater than mpy_heap_free_bytes=" in output
    assert claim["verdict"] == "fails"
    failed = {a["comparator"] for a in claim["assertions"] if a["status"] == "failed"}
    assert failed == {"equals", "greater_than"}
