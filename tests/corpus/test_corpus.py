"""Malformed scenario and bench files: every one is rejected by `hil check` with exit code 2 and one line naming
the file, the line and the key, never a Python traceback; and nothing in them ever reaches a shell or `eval`.

The committed files live in scenarios/ and benches/ next to this module; the first line of each says what the
rejection must name: `# expect: LINE KEY` (KEY `-` when the problem is the file as a whole: empty, not a mapping).
Files that would be large, binary or slow to read in a review (huge, non-UTF-8, control bytes, deep nesting) are
generated into a temporary folder by the tests below.
"""
from __future__ import annotations

import builtins
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from hil import cli
from hil.commands.check import EXIT_BAD_INPUT, check_file
from hil.errors import ConfigError
from hil.yamlfile import MAX_FILE_BYTES, MAX_NESTING_DEPTH

CORPUS_DIR = Path(__file__).parent
PROJECT_ROOT = CORPUS_DIR.parents[1]
HIL_COMMAND = Path(sys.executable).with_name("hil")   # the console script installed beside this interpreter
CHECK_TIMEOUT_S = 60.0
EXPECT_HEADER = re.compile(r"^# expect: (?P<line>\d+) (?P<key>\S+)$")
WHOLE_FILE = "-"
MIN_CORPUS_FILES = 50
CANARY = "CANARY"   # several corpus files try to `touch CANARY` through a shell or eval
# The head shared by generated scenarios: `steps:` is on line 6.
SCENARIO_HEAD = ("scenario: s\nclaim: c\nboards:\n  r: {runtime: rust, firmware: lesson}\n"
                 "  m: {runtime: micropython, provision: false}\nsteps:\n")
FIRST_STEP_LINE = 7


def corpus_files() -> list[Path]:
    return sorted([*CORPUS_DIR.glob("scenarios/*.yaml"), *CORPUS_DIR.glob("benches/*.yaml")])


def expected_location(path: Path) -> tuple[int, str | None]:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECT_HEADER.match(header)
    assert match, f"{path}: first line must be '# expect: LINE KEY'"
    key = match["key"]
    return int(match["line"]), None if key == WHOLE_FILE else key


def rejection_prefix(path: Path, line: int, key: str | None) -> str:
    return f"hil check: {path}:{line}: {key}: " if key else f"hil check: {path}:{line}: "


def run_hil_check(*files: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(HIL_COMMAND), "check", "--project", str(PROJECT_ROOT), *map(str, files)],
                          cwd=cwd, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)


def test_the_corpus_holds_at_least_fifty_malformed_files():
    files = corpus_files()
    assert len(files) >= MIN_CORPUS_FILES
    assert any(p.parent.name == "benches" for p in files) and any(p.parent.name == "scenarios" for p in files)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hil_check_rejects_the_file_naming_its_line_and_key(path, capsys):
    line, key = expected_location(path)
    status = cli.main(["check", "--project", str(PROJECT_ROOT), str(path)])
    out, err = capsys.readouterr()
    assert status == EXIT_BAD_INPUT
    assert out == ""
    (message,) = err.splitlines()
    assert message.startswith(rejection_prefix(path, line, key)), message
    assert len(message) > len(rejection_prefix(path, line, key)), "the rejection must say what is wrong"


def test_the_hil_command_rejects_the_whole_corpus_with_one_line_per_file_and_no_traceback(tmp_path):
    files = corpus_files()
    result = run_hil_check(*files, cwd=tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(files)
    for path, message in zip(files, lines):
        assert message.startswith(rejection_prefix(path, *expected_location(path))), message
    assert not (tmp_path / CANARY).exists()


# -- generated files -----------------------------------------------------------------------------------------

@dataclass
class Generated:
    """A malformed file written at test time, and the line, key and message its rejection must show."""

    name: str
    write: Callable[[Path], tuple[int, str | None]]   # writes the file, returns (line, key)
    message: str


def _huge_scenario(path: Path) -> tuple[int, str | None]:
    step = "  - {on: r, command: 'bench crc32 4096', name: a step that repeats far too often}\n"
    data = (SCENARIO_HEAD + step * (2 * MAX_FILE_BYTES // len(step))).encode()
    path.write_bytes(data)
    line = data[:MAX_FILE_BYTES].count(b"\n") + 1   # where the file crosses the limit
    return line, f"steps[{line - FIRST_STEP_LINE}]"


def _too_many_steps(path: Path) -> tuple[int, str | None]:
    path.write_text(SCENARIO_HEAD + "  - {on: r, command: ping}\n" * 600)
    return FIRST_STEP_LINE - 1, "steps"


def _latin1_claim(path: Path) -> tuple[int, str | None]:
    path.write_bytes(b"scenario: s\nclaim: caf\xe9 au lait\n")
    return 2, "claim"


def _latin1_bench_serial(path: Path) -> tuple[int, str | None]:
    path.write_bytes(b"bench: lab\nboards:\n  - id: pico-a\n    runtime: micropython\n    serial_number: E6\xff0\n")
    return 5, "boards[0].serial_number"


def _nul_byte(path: Path) -> tuple[int, str | None]:
    path.write_bytes(SCENARIO_HEAD.encode() + b"  - {on: r, command: id\x00touch CANARY}\n")
    return FIRST_STEP_LINE, "steps[0].command"


def _deep_nesting(path: Path) -> tuple[int, str | None]:
    depth = 2_000   # well past what the composer can recurse into
    path.write_text("scenario: s\nclaim: c\nboards: " + "[" * depth + "]" * depth + "\n")
    return 3, "boards" + "[0]" * (MAX_NESTING_DEPTH - 1)


def _laughs_at_scale(path: Path) -> tuple[int, str | None]:
    levels = [f"l0: &l0 [{', '.join(['lol'] * 10)}]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 12)]
    path.write_text("\n".join(levels) + "\nscenario: s\n")
    return 1, None   # the key path depends on where the budget runs out; the line is where the repeated node is


GENERATED = [
    Generated("huge_scenario", _huge_scenario, f"the limit is {MAX_FILE_BYTES}"),
    Generated("too_many_steps", _too_many_steps, "more than 500 steps"),
    Generated("latin1_claim", _latin1_claim, "not valid UTF-8 (byte 0xe9)"),
    Generated("latin1_bench_serial", _latin1_bench_serial, "not valid UTF-8 (byte 0xff)"),
    Generated("nul_byte", _nul_byte, "character #x0000 is not allowed"),
    Generated("deep_nesting", _deep_nesting, f"nested more than {MAX_NESTING_DEPTH} levels deep"),
    Generated("laughs_at_scale", _laughs_at_scale, "document expands to more than"),
]


@pytest.mark.parametrize("case", GENERATED, ids=lambda g: g.name)
def test_hil_check_rejects_generated_file_naming_its_line_and_key(case, tmp_path):
    path = tmp_path / f"{case.name}.yaml"
    line, key = case.write(path)
    result = run_hil_check(path, cwd=tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in result.stderr
    (message,) = result.stderr.splitlines()
    # The key may go deeper than the test can know (e.g. into the step's field where the limit falls).
    key_pattern = r"\S+" if key is None else re.escape(key) + r"(?:[.\[]\S*)?"
    assert re.match(rf"hil check: {re.escape(str(path))}:{line}: {key_pattern}: ", message), message
    assert case.message in message
    assert not (tmp_path / CANARY).exists()


# -- nothing reaches a shell or eval -------------------------------------------------------------------------

class ForbiddenCalls:
    """Replaces every way of starting a process or evaluating text with a recorder that refuses."""

    PROCESS_FUNCTIONS = [(subprocess, "Popen"), (os, "system"), (os, "popen"), (os, "execv"), (os, "execve"),
                         (os, "execvp"), (os, "execvpe"), (os, "spawnv"), (os, "spawnve"), (os, "posix_spawn"),
                         (os, "posix_spawnp"), (os, "fork")]
    EVAL_FUNCTIONS = [(builtins, "eval"), (builtins, "exec"), (builtins, "compile")]

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls: list[str] = []
        for owner, name in self.PROCESS_FUNCTIONS + self.EVAL_FUNCTIONS:
            if hasattr(owner, name):
                monkeypatch.setattr(owner, name, self._refuse(f"{owner.__name__}.{name}"))

    def _refuse(self, what: str):
        def refuse(*args, **kwargs):
            self.calls.append(f"{what}{args!r:.200}")
            raise PermissionError(f"{what} called while reading an untrusted file")
        return refuse


def _all_malformed_inputs(folder: Path) -> list[Path]:
    generated = []
    for case in GENERATED:
        path = folder / f"{case.name}.yaml"
        case.write(path)
        generated.append(path)
    return corpus_files() + generated


def _check_each(paths: list[Path]) -> list[str]:
    rejected = []
    for path in paths:
        with pytest.raises(ConfigError) as caught:
            check_file(path, PROJECT_ROOT)
        rejected.append(str(caught.value))
    return rejected


def test_no_malformed_file_makes_the_checker_start_a_process_or_evaluate_text(tmp_path, monkeypatch):
    paths = _all_malformed_inputs(tmp_path)
    _check_each(corpus_files())  # a first pass outside the guard: the lazy imports of the libraries happen here
    monkeypatch.chdir(tmp_path)
    forbidden = ForbiddenCalls(monkeypatch)
    rejected = _check_each(paths)
    assert forbidden.calls == []
    assert len(rejected) == len(paths)
    assert not (tmp_path / CANARY).exists()


def test_the_guard_against_processes_and_eval_does_catch_them(monkeypatch):
    forbidden = ForbiddenCalls(monkeypatch)
    for attempt in (lambda: os.system("true"), lambda: subprocess.run(["true"]), lambda: eval("1 + 1")):
        with pytest.raises(PermissionError):
            attempt()
    assert [call.split("(")[0] for call in forbidden.calls] == ["os.system", "subprocess.Popen", "builtins.eval"]
