"""Every file a user names (hil check, hil report, --hil-bench) is a regular file read with a size limit: a FIFO,
a device, a symlink loop, a name too long or bytes that are not UTF-8 end at once with one line naming the file,
never a hang or a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HIL_COMMAND = Path(sys.executable).with_name("hil")
# Each case ends in well under a second; the bound only turns a hang into a failure.
COMMAND_TIMEOUT_S = 30.0
EXIT_BAD_INPUT = 2
PYTEST_USAGE_ERROR = 4


def _fifo(folder: Path) -> tuple[str, str]:
    os.mkfifo(folder / "input.fifo")
    return str(folder / "input.fifo"), "is a FIFO (named pipe), not a regular file"


def _device(folder: Path) -> tuple[str, str]:
    return "/dev/zero", "is a character device, not a regular file"


def _loop(folder: Path) -> tuple[str, str]:
    (folder / "loop.yaml").symlink_to("loop.yaml")
    return str(folder / "loop.yaml"), "too many levels of symbolic links"


def _long_name(folder: Path) -> tuple[str, str]:
    return str(folder / ("n" * 300 + ".yaml")), "file name too long"


def _directory(folder: Path) -> tuple[str, str]:
    return str(folder), "is a directory, not a regular file"


SPECIAL = {"fifo": _fifo, "device": _device, "loop": _loop, "long_name": _long_name, "directory": _directory}


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("command", ["check", "report"])
@pytest.mark.parametrize("case", sorted(SPECIAL))
def test_a_special_file_is_refused_at_once_with_one_line(tmp_path, command, case):
    path, reason = SPECIAL[case](tmp_path)
    run = subprocess.run([str(HIL_COMMAND), command, path], cwd=tmp_path, capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == EXIT_BAD_INPUT
    line = _one_line(run.stderr)
    assert line.startswith(f"hil {command}: {path}") and reason in line


@pytest.mark.parametrize("case", sorted(SPECIAL))
def test_a_special_file_named_as_a_junit_file_to_merge_is_refused_at_once_with_one_line(tmp_path, case):
    path, reason = SPECIAL[case](tmp_path)
    results = tmp_path / "results.json"
    results.write_text("{}")
    run = subprocess.run([str(HIL_COMMAND), "report", str(results), "--junit", path, "--merged-junit",
                          str(tmp_path / "merged.xml"), "-o", str(tmp_path / "report.html")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == EXIT_BAD_INPUT
    line = _one_line(run.stderr)
    assert line.startswith(f"hil report: {path}") and reason in line


def test_a_results_file_that_is_not_utf8_is_refused_naming_the_file_and_line(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes(b'{"format": "pico-hil-results/1",\n "host": "\xff"}')
    run = subprocess.run([str(HIL_COMMAND), "report", str(path)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == EXIT_BAD_INPUT
    assert _one_line(run.stderr) == f"hil report: {path}:2: not valid UTF-8 (byte 0xff)"


@pytest.mark.parametrize("case", ["fifo", "device", "loop", "long_name"])
def test_a_special_bench_file_stops_the_run_before_collection_with_one_line(tmp_path, case):
    path, reason = SPECIAL[case](tmp_path)
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hil-bench", path,
                          "test_nothing.py"], cwd=tmp_path, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == PYTEST_USAGE_ERROR
    line = _one_line(run.stderr)
    assert line.startswith(f"ERROR: {path}: ") and reason in line
    assert "Traceback" not in run.stdout


@pytest.mark.parametrize("case", ["fifo", "device", "loop", "long_name", "directory"])
def test_a_special_firmware_image_is_refused_before_any_tool_runs(tmp_path, case):
    path, reason = SPECIAL[case](tmp_path)
    run = subprocess.run([str(HIL_COMMAND), "flash", "pico-a", path], cwd=tmp_path, capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT_S)
    assert run.returncode == EXIT_BAD_INPUT
    line = _one_line(run.stderr)
    assert line.startswith(f"hil flash: {path}") and reason in line
