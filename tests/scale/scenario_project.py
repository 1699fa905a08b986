"""A small project for end-to-end runs: one MicroPython scenario, the script it deploys, and bench files that
reach the board on a local port or through rfc2217://."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

RUN_TIMEOUT_S = 120
GREET = "GREETING = 'hello'\n"
SCENARIO = """\
scenario: remote-port
claim: A board behind RFC 2217 answers a scenario exactly as on a local port.
boards:
  mpy: {runtime: micropython, deploy: [scripts_micropython/demo]}
steps:
  - on: mpy
    exec: "import os; print(os.stat('/greet.py')[6])"
    expect: '^(?P<size>\\d+)'
    record: {greet_file_bytes: size}
  - {on: mpy, exec: "print(open('/greet.py').read())", expect: "GREETING = 'hello'"}
  - {on: mpy, eval: "sum(range(10))", expect: '^(?P<total>45)$', record: {sum_total_x: total}}
  - {on: mpy, exec: "1 / 0", expect_exception: {type: ZeroDivisionError}, record_elapsed: exception_round_trip_s}
assert:
  - {metric: greet_file_bytes, equals: %(size)d}
  - {metric: sum_total_x, equals: 45}
"""


def write_project(root: Path) -> None:
    (root / "scenarios").mkdir()
    (root / "scenarios" / "remote.yaml").write_text(SCENARIO % {"size": len(GREET)})
    (root / "scripts_micropython" / "demo").mkdir(parents=True)
    (root / "scripts_micropython" / "demo" / "greet.py").write_text(GREET)


def write_bench_file(path: Path, board_id: str, port: str) -> Path:
    path.write_text(textwrap.dedent(f"""\
        bench: {path.stem}
        boards:
          - id: {board_id}
            runtime: micropython
            port: {port}
        """))
    return path


def pytest_argv(bench_file: Path, results: str) -> list[str]:
    return ["-m", "hil", "-p", "no:cacheprovider", f"--hil-bench={bench_file}", f"--hil-results={results}"]


def only_claim(results_path: Path) -> dict:
    (claim,) = json.loads(results_path.read_text())["claims"]
    return claim
