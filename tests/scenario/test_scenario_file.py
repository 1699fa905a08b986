"""Loading scenario files: valid ones become Scenario objects, invalid ones name file, line and key."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.scenario.scenario_file import DEFAULT_STEP_TIMEOUT_S, load_scenario

VALID = """\
scenario: panic-vs-exception
claim: An unhandled error halts Rust firmware but leaves MicroPython's REPL usable.
boards:
  rust: {runtime: rust, firmware: lesson}
  mpy: {runtime: micropython, deploy: [scripts]}
steps:
  - {on: rust, command: "parse abc", expect: '^ERR parse'}
  - {on: rust, command: "panic unwrap", expect_panic: {message: 'None', timeout_s: 2}}
  - {on: mpy, exec: "1/0", expect_exception: {type: ZeroDivisionError}}
  - {on: mpy, exec: "print(1 + 1)", expect: {regex: '^2$', timeout_s: 1}}
  - {on: rust, command: "bench crc32 1024", expect: 'us=(?P<us>\\d+)', record: {rust_crc32_us: us}}
  - {on: mpy, exec: "x()", expect: 't=(?P<t>\\d+)', record: {mpy_t_us: t}, expect_no_exception: true}
assert:
  - {metric: rust.state, equals: halted}
  - {ratio: [mpy_t_us, rust_crc32_us], at_least: 10}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_scenario(write(tmp_path, text), tmp_path)
    return caught.value


def test_a_valid_scenario_loads_with_steps_records_and_assertions(tmp_path):
    scenario = load_scenario(write(tmp_path, VALID), tmp_path)
    assert scenario.name == "panic-vs-exception"
    assert [s.action for s in scenario.steps] == ["command", "command", "exec", "exec", "command", "exec"]
    assert scenario.steps[3].timeout_s == 1
    assert scenario.steps[0].timeout_s == DEFAULT_STEP_TIMEOUT_S
    record = scenario.steps[4].records[0]
    assert (record.metric, record.group, record.unit, record.clock) == ("rust_crc32_us", "us", "us", "device")
    assert scenario.metric_names() == {"rust_crc32_us", "mpy_t_us"}
    assert scenario.assertions[1].subject == ("mpy_t_us", "rust_crc32_us")


@pytest.mark.parametrize("old, new, line, key, words", [
    ("claim: An", "claims: An", 2, "claims", "unknown key"),
    ("{runtime: rust, firmware: lesson}", "{runtime: rust, firmware: lesson, speed: 3}", 4, "boards.rust.speed",
     "unknown key"),
    ("expect: '^ERR parse'", "expect: '^ERR (parse'", 7, "steps[0].expect", "invalid regex"),
    ("{on: mpy, exec: \"print(1 + 1)\"", "{on: mpu, exec: \"print(1 + 1)\"", 10, "steps[3].on", "no board 'mpu'"),
    ("{on: rust, command: \"parse abc\"", "{on: rust, exec: \"parse abc\"", 7, "steps[0].exec", "only a micropython"),
    ("record: {rust_crc32_us: us}", "record: {rust_crc32_us: usec}", 11, "steps[4].record.rust_crc32_us",
     "no group named 'usec'"),
    ("{metric: rust.state, equals: halted}", "{metric: rust_state, equals: halted}", 14, "assert[0].metric",
     "no step records"),
    ("timeout_s: 1}}", "timeout_s: fast}}", 10, "steps[3].expect.timeout_s", "expected number"),
    ("deploy: [scripts]", "deploy: [missing_dir]", 5, "boards.mpy.deploy[0]", "does not exist"),
    ("deploy: [scripts]", "deploy: [../outside]", 5, "boards.mpy.deploy[0]", "inside the project"),
])
def test_errors_name_the_file_line_and_key(tmp_path, old, new, line, key, words):
    assert old in VALID
    error = error_for(tmp_path, VALID.replace(old, new))
    assert error.path.endswith("s.yaml")
    assert (error.line, error.key) == (line, key), str(error)
    assert words in error.message
    assert str(error).startswith(f"{error.path}:{line}: {key}:")


def test_two_actions_in_one_step_are_refused(tmp_path):
    error = error_for(tmp_path, VALID.replace('{on: mpy, exec: "1/0",', '{on: mpy, exec: "1/0", eval: "2",'))
    assert (error.line, error.key) == (9, "steps[2].eval")


def test_a_metric_recorded_twice_is_refused(tmp_path):
    error = error_for(tmp_path, VALID.replace("record: {mpy_t_us: t}", "record: {rust_crc32_us: t}"))
    assert error.line == 12 and "already recorded at line 11" in error.message


def test_yaml_syntax_errors_name_the_line(tmp_path):
    error = error_for(tmp_path, VALID.replace("steps:\n", "steps: [\n"))
    assert error.line is not None and "YAML syntax" in error.message


def test_scenario_text_never_reaches_the_host_interpreter(tmp_path, monkeypatch):
    import builtins
    calls = []
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(builtins, "exec", lambda *a, **k: calls.append(a))
    hostile = VALID.replace('exec: "print(1 + 1)"', 'exec: "__import__(\'os\').system(\'touch pwned\')"')
    load_scenario(write(tmp_path, hostile), tmp_path)
    assert calls == []
    assert not (tmp_path / "pwned").exists()


def test_a_rust_board_may_name_cargo_features_of_its_firmware(tmp_path):
    text = VALID.replace("{runtime: rust, firmware: lesson}",
                         "{runtime: rust, firmware: {package: lesson, features: [handicap-sort]}}")
    scenario = load_scenario(write(tmp_path, text), tmp_path)
    assert (scenario.boards["rust"].firmware, scenario.boards["rust"].features) == ("lesson", ("handicap-sort",))
    assert load_scenario(write(tmp_path, VALID), tmp_path).boards["rust"].features == ()


@pytest.mark.parametrize("firmware, key", [
    ("{package: lesson, features: [Handicap Sort]}", "boards.rust.firmware"),
    ("{features: [handicap-sort]}", "boards.rust.firmware"),
    ("{package: lesson, options: [x]}", "boards.rust.firmware"),
])
def test_bad_firmware_features_are_refused_naming_the_board(tmp_path, firmware, key):
    error = error_for(tmp_path, VALID.replace("{runtime: rust, firmware: lesson}", f"{{runtime: rust, firmware: {firmware}}}"))
    assert error.line == 4 and error.key.startswith(key), str(error)


def test_copy_with_mpremote_goes_with_provision_on_a_micropython_board(tmp_path):
    steps = "steps:\n  - {on: mpy, provision: true, edit: true, copy_with: mpremote, record_elapsed: mpy_s}\n"
    text = VALID.split("steps:\n")[0] + steps
    scenario = load_scenario(write(tmp_path, text), tmp_path)
    assert scenario.steps[0].raw["copy_with"] == "mpremote"
    wrong_board = text.replace("{on: mpy, provision", "{on: rust, provision")
    assert "only a micropython board" in error_for(tmp_path, wrong_board).message
    assert error_for(tmp_path, text.replace("copy_with: mpremote", "copy_with: scp")).key == "steps[0].copy_with"


def test_a_feature_the_firmware_does_not_declare_is_refused_naming_its_line(tmp_path):
    text = VALID.replace("{runtime: rust, firmware: lesson}",
                         "{runtime: rust, firmware: {package: lesson, features: [handicap-sorts]}}")
    error = error_for(tmp_path, text)
    assert (error.line, error.key) == (4, "boards.rust.firmware.features"), str(error)
    assert "no cargo feature 'handicap-sorts'" in error.message and "handicap-sort" in error.message
