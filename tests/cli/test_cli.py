"""The `hil` command as a user meets it: doctor, boards, and one-line errors with exit code 2 for bad input."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 120


def hil(*args: str, env: dict | None = None, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S, env={**os.environ, **(env or {})})


def test_doctor_on_the_simulated_bench_finds_every_tool(tmp_path):
    result = hil("doctor", env={"HIL_SIM_DIR": str(tmp_path / "sim")})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "bench: sim (from default)"
    for tool in ("node", "npm rp2040js", "probe-rs", "picotool", "mpremote", "rust toolchain (thumbv6m)"):
        assert any(line.startswith(tool) and " found " in line for line in lines), tool
    assert lines[-1] == "all tools found"


def test_doctor_names_a_missing_tool_and_how_to_install_it(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("boards:\n  - {id: pico-a, runtime: rust, serial_number: E661, probe: '2e8a:000c:X1', "
                     "flash: probe-rs}\n")
    no_probe_rs = str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin"
    result = hil("doctor", "--bench", str(bench), env={"PATH": no_probe_rs})
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("probe-rs")]
    assert "MISSING" in line and "install:" in line


def test_doctor_names_the_version_problem_of_a_picotool_that_is_too_old(tmp_path):
    result = hil("doctor", env={"HIL_SIM_DIR": str(tmp_path / "sim"), "HIL_SIM_PICOTOOL_VERSION": "1.1.2"})
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("picotool")]
    assert "TOO OLD" in line and "found version 1.1.2" in line and "2.0.0 or newer is needed" in line, line
    assert result.stdout.splitlines()[-1] == "1 too old"


def test_boards_on_the_simulated_bench_prints_one_line_per_board_starting_with_its_id(tmp_path):
    result = hil("boards", env={"HIL_SIM_DIR": str(tmp_path / "sim")})
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert {row[0] for row in rows} == {"sim-rust-0", "sim-mpy-0"}
    runtime_of = {row[0]: row[1] for row in rows}
    assert runtime_of == {"sim-rust-0": "rust", "sim-mpy-0": "micropython"}


def test_boards_on_a_bench_whose_board_is_absent_says_missing_and_fails(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("boards:\n  - {id: pico-mpy, runtime: micropython, serial_number: NOT-ATTACHED-1234}\n")
    result = hil("boards", "--bench", str(bench))
    assert result.returncode == 1
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("pico-mpy")]
    assert "missing" in row


def test_a_malformed_bench_file_is_one_line_with_file_line_key_and_exit_2(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("boards:\n  - id: a\n    runtime: rust\n    serial_number: 7\n")
    for command in ("boards", "doctor"):
        result = hil(command, "--bench", str(bench))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"hil {command}: {bench}:4: boards[0].serial_number: expected string, got int 7"]


def test_a_bench_file_that_does_not_exist_is_exit_2(tmp_path):
    result = hil("boards", "--bench", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "bench file not found" in result.stderr
