"""Reading a scenario file: the published schema (hil/schemas/scenario.schema.json) plus the checks a schema can't
express (one action per step, boards that exist, regexes that compile, recorded groups that exist, metrics that
assertions name). Every problem is a ConfigError naming file, line and key. Scenario text is only ever data:
regexes are compiled, code for the board is sent to the board; nothing is evaluated on the host.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

from hil.bench.board_spec import Runtime
from hil.board.board import console_pattern
from hil.board.board_factory import console_fail_on
from hil.deploy.micropython_deployer import plan_files
from hil.errors import ConfigError
from hil.transport import user_pattern
from hil.transport.user_pattern import Pattern
from hil.yamlfile import YamlMap, load_schema, load_yaml_file, validate

DEFAULT_STEP_TIMEOUT_S = 5.0
MAX_STEPS = 500
FIRMWARE_NAME = re.compile(r"[A-Za-z0-9_-]+")   # a binary of the project's firmware_rust/ (no path)

# The action of a step: exactly one of these keys.
ACTIONS = ("send", "command", "exec", "exec_start", "exec_wait", "eval", "expect", "expect_panic", "check", "reset",
           "soft_reset", "interrupt", "provision", "build", "read_bytes", "write_bytes", "wait_s")
# Keys that may accompany an action, by action.
COMPANIONS = {
    "send": {"expect", "expect_panic", "skip_if"},
    "command": {"expect", "expect_panic", "skip_if"},
    "exec": {"expect", "expect_exception", "expect_no_exception", "skip_if"},
    "eval": {"expect", "skip_if"},
    "exec_wait": {"expect", "expect_exception", "expect_no_exception", "skip_if"},
    "expect": {"skip_if"},
    "build": {"edit"},
    "provision": {"edit", "copy_with"},
    "write_bytes": {"expect"},
}
RUST, MICROPYTHON = Runtime.RUST, Runtime.MICROPYTHON
RUNTIME_ONLY = {"command": RUST, "expect_panic": RUST, "exec": MICROPYTHON, "eval": MICROPYTHON,
                "exec_start": MICROPYTHON, "exec_wait": MICROPYTHON, "reset": RUST, "soft_reset": MICROPYTHON,
                "interrupt": MICROPYTHON, "expect_exception": MICROPYTHON, "copy_with": MICROPYTHON}
NO_BOARD_ACTIONS = {"build", "wait_s"}
COMMON_KEYS = {"name", "on", "timeout_s", "record", "record_elapsed", "record_rate", "skip_reason"}
UNIT_SUFFIXES = (("_us", "us"), ("_ms", "ms"), ("_ns", "ns"), ("_s", "s"), ("_bytes", "bytes"),
                 ("_bps", "bytes/s"), ("_x", "x"), ("_hz", "Hz"))
TIME_UNITS = {"us", "ms", "ns", "s"}
# A tag becomes a pytest marker: these names already mean something to pytest (a tag `skip` or `xfail` would change
# the test's outcome) or to its -m expressions (and, or, not), or are the framework's own.
RESERVED_TAGS = {"hil", "skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "tryfirst",
                 "trylast", "and", "or", "not", "True", "False", "None"}
# Group names the runner's own wrapping uses; a user's group of that name would clash with it.
RESERVED_GROUP_PREFIX = "hil_"
# What a stream expect waits for: the user's pattern first (so its groups keep their numbers and its backreferences
# their meaning), matched only on lines that have fully arrived ("us=12" of "us=1234" must not match). The board adds
# its runtime's fail lines (a Rust PANIC) as alternatives; the loader checks the combination it will run.
COMPLETE_LINE = r"(?:(?<=\n)|(?=[^\n]*\n))"


def unit_from_name(name: str) -> str:
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


@dataclass
class BoardRole:
    role: str
    runtime: Runtime
    firmware: str | None
    deploy: list[str]
    provision: bool
    line: int
    deploy_verify: bool = False   # hash every deployed file on the board afresh (see MicroPythonDeployer)
    features: tuple[str, ...] = ()  # cargo features the firmware is built with


@dataclass
class Record:
    metric: str
    group: str
    unit: str
    clock: str          # "device" (the board's own clock domain), "host" or "none"


@dataclass
class Step:
    index: int
    line: int
    action: str
    argument: object
    on: str | None
    timeout_s: float
    raw: dict
    expect: Pattern | None = None
    records: list[Record] = field(default_factory=list)
    record_elapsed: str | None = None
    record_rate: str | None = None
    skip_if: Pattern | None = None
    skip_reason: str | None = None
    # The pattern a stream expect waits for (see COMPLETE_LINE), compiled and checked when the file is read.
    expect_stream: Pattern | None = None
    # expect_panic.message/location and expect_exception.message, compiled when the file is read.
    message_patterns: dict[str, Pattern] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.raw.get("name")
        return f"step {self.index + 1} (line {self.line}{', ' + name if name else ''})"


@dataclass
class Assertion:
    line: int
    raw: dict
    subject: tuple[str, ...]        # one metric, or two for a ratio
    comparator: str
    operand: object

    @property
    def label(self) -> str:
        subject = f"{self.subject[0]} / {self.subject[1]}" if len(self.subject) == 2 else self.subject[0]
        return self.raw.get("name") or f"{subject} {self.comparator} {self.operand}"


@dataclass
class Scenario:
    path: Path
    name: str
    claim: str
    boards: dict[str, BoardRole]
    steps: list[Step]
    assertions: list[Assertion]
    tags: list[str]
    lesson: str | None = None
    contradicts_lesson: str | None = None

    def metric_names(self) -> set[str]:
        names = set()
        for step in self.steps:
            names |= {r.metric for r in step.records}
            names |= {n for n in (step.record_elapsed, step.record_rate) if n}
        return names


COMPARATORS = ("equals", "less_than", "greater_than", "at_least", "at_most", "between")


def _compile(path: str, line: int, key: str, pattern: str) -> Pattern:
    try:
        compiled = user_pattern.compile_pattern(pattern)
    except (user_pattern.error, ValueError, OverflowError, RecursionError) as error:
        raise ConfigError(path, line, key, f"invalid regex {pattern!r}: {error}") from None
    reserved = sorted(name for name in compiled.groupindex if name.startswith(RESERVED_GROUP_PREFIX))
    if reserved:
        raise ConfigError(path, line, key, f"group name {reserved[0]!r} is reserved (names starting "
                                           f"{RESERVED_GROUP_PREFIX!r} are the runner's own)")
    return compiled


def stream_pattern(path: str, line: int, key: str, user: Pattern, runtime: str) -> Pattern:
    """The pattern a stream expect on a `runtime` board waits for (see COMPLETE_LINE), after checking that the
    combination the board runs (hil.board.board.console_pattern with the runtime's fail lines) compiles and keeps
    the user's groups."""
    fail_on = console_fail_on(runtime)
    try:
        line_pattern = user_pattern.compile_pattern(f"(?:{user.pattern}){COMPLETE_LINE}")
        wrapped = user_pattern.compile_pattern(console_pattern(line_pattern.pattern, fail_on))
    except (user_pattern.error, ValueError, OverflowError, RecursionError) as error:
        raise ConfigError(path, line, key, f"regex {user.pattern!r} cannot be matched line by line: {error}") from None
    if wrapped.groups != user.groups + len(fail_on) or any(
            wrapped.groupindex.get(name) != number for name, number in user.groupindex.items()):
        # Only a pattern that escapes its own parentheses (unbalanced, e.g. "a)|(b") gets here.
        raise ConfigError(path, line, key, f"regex {user.pattern!r} does not keep its meaning inside the runner's "
                                           f"line matching (unbalanced parentheses?)")
    return line_pattern


def _step(path: str, index: int, raw: YamlMap, boards: dict[str, BoardRole]) -> Step:
    key = f"steps[{index}]"
    actions = [a for a in ACTIONS if a in raw]
    # "expect" is the action only when nothing else is.
    if len(actions) > 1 and "expect" in actions:
        actions.remove("expect")
    if "expect_panic" in actions and len(actions) > 1:
        actions.remove("expect_panic")
    if not actions:
        raise ConfigError(path, raw.line, key, f"a step needs one action: {', '.join(ACTIONS)}")
    if len(actions) > 1:
        raise ConfigError(path, raw.line_of(actions[1]), f"{key}.{actions[1]}",
                          f"one action per step (this step also has {actions[0]!r})")
    action = actions[0]
    allowed = COMMON_KEYS | COMPANIONS.get(action, set()) | {action}
    for extra in raw:
        if extra not in allowed:
            raise ConfigError(path, raw.line_of(extra), f"{key}.{extra}", f"not allowed with {action!r}")
    on = raw.get("on")
    if action in NO_BOARD_ACTIONS:
        if on is not None:
            raise ConfigError(path, raw.line_of("on"), f"{key}.on", f"{action!r} does not act on a board")
    else:
        if on is None:
            raise ConfigError(path, raw.line, f"{key}.on", f"{action!r} needs 'on: <board>'")
        if on not in boards:
            raise ConfigError(path, raw.line_of("on"), f"{key}.on",
                              f"no board {on!r} in this scenario (boards: {', '.join(boards)})")
        for used in [action] + [k for k in raw if k in RUNTIME_ONLY]:
            needed = RUNTIME_ONLY.get(used)
            if needed and boards[on].runtime != needed:
                raise ConfigError(path, raw.line_of(used), f"{key}.{used}",
                                  f"only a {needed} board can do {used!r}; {on!r} is {boards[on].runtime}")
    timeout_s = raw.get("timeout_s")
    expect = None
    if "expect" in raw:
        spec = raw["expect"]
        pattern = spec if isinstance(spec, str) else spec["regex"]
        expect = _compile(path, raw.line_of("expect"), f"{key}.expect", pattern)
        if isinstance(spec, dict) and "timeout_s" in spec:
            if timeout_s is not None:
                raise ConfigError(path, spec.line_of("timeout_s"), f"{key}.expect.timeout_s",
                                  "timeout_s given twice (step and expect)")
            timeout_s = spec["timeout_s"]
    message_patterns = {}
    if action == "expect_panic" or "expect_panic" in raw:
        panic = raw["expect_panic"] or {}
        for sub in ("message", "location"):
            if sub in panic:
                message_patterns[f"expect_panic.{sub}"] = _compile(path, panic.line_of(sub),
                                                                   f"{key}.expect_panic.{sub}", panic[sub])
        timeout_s = panic.get("timeout_s", timeout_s)
    if "expect_exception" in raw:
        if "message" in raw["expect_exception"]:
            exc = raw["expect_exception"]
            message_patterns["expect_exception.message"] = _compile(path, exc.line_of("message"),
                                                                    f"{key}.expect_exception.message", exc["message"])
    expect_stream = None
    if expect is not None and on is not None:
        expect_stream = stream_pattern(path, raw.line_of("expect"), f"{key}.expect", expect, boards[on].runtime)
    records = []
    for metric, spec in (raw.get("record") or {}).items():
        group = spec if isinstance(spec, str) else spec["group"]
        if expect is None:
            raise ConfigError(path, raw.line_of("record"), f"{key}.record.{metric}", "record needs an expect regex")
        if group not in expect.groupindex:
            raise ConfigError(path, raw["record"].line_of(metric), f"{key}.record.{metric}",
                              f"the expect regex has no group named {group!r}")
        unit = spec.get("unit", unit_from_name(metric)) if isinstance(spec, dict) else unit_from_name(metric)
        default_clock = "device" if unit in TIME_UNITS else "none"
        clock = spec.get("clock", default_clock) if isinstance(spec, dict) else default_clock
        records.append(Record(metric, group, unit, clock))
    if "record_rate" in raw and action not in ("read_bytes", "write_bytes"):
        raise ConfigError(path, raw.line_of("record_rate"), f"{key}.record_rate",
                          "record_rate goes with read_bytes or write_bytes")
    skip_if = _compile(path, raw.line_of("skip_if"), f"{key}.skip_if", raw["skip_if"]) if "skip_if" in raw else None
    if "skip_reason" in raw and skip_if is None:
        raise ConfigError(path, raw.line_of("skip_reason"), f"{key}.skip_reason", "skip_reason goes with skip_if")
    return Step(index=index, line=raw.line, action=action, argument=raw[action], on=on,
                timeout_s=float(timeout_s if timeout_s is not None else DEFAULT_STEP_TIMEOUT_S), raw=raw,
                expect=expect, records=records, record_elapsed=raw.get("record_elapsed"),
                record_rate=raw.get("record_rate"), skip_if=skip_if, skip_reason=raw.get("skip_reason"),
                expect_stream=expect_stream, message_patterns=message_patterns)


def _assertion(path: str, index: int, raw: YamlMap, known: set[str], roles: set[str]) -> Assertion:
    key = f"assert[{index}]"
    subjects = [k for k in ("metric", "ratio") if k in raw]
    if len(subjects) != 1:
        raise ConfigError(path, raw.line, key, "an assertion needs exactly one of 'metric' or 'ratio'")
    comparators = [c for c in COMPARATORS if c in raw]
    if len(comparators) != 1:
        raise ConfigError(path, raw.line, key, f"an assertion needs exactly one of: {', '.join(COMPARATORS)}")
    subject = (raw["metric"],) if "metric" in raw else tuple(raw["ratio"])
    comparator = comparators[0]
    operand = raw[comparator]

    def check_name(name: str, at: str) -> None:
        if "." in name:
            role, _, attribute = name.partition(".")
            if role not in roles or attribute != "state":
                raise ConfigError(path, raw.line_of(at), f"{key}.{at}",
                                  f"{name!r}: the only board attribute is '<board>.state' (boards: {', '.join(roles)})")
        elif name not in known:
            raise ConfigError(path, raw.line_of(at), f"{key}.{at}",
                              f"no step records a metric named {name!r} (recorded: {', '.join(sorted(known)) or 'none'})")

    for name in subject:
        check_name(name, subjects[0])
    if isinstance(operand, str) and comparator != "equals":
        check_name(operand, comparator)
    if comparator == "between" and operand[0] > operand[1]:
        raise ConfigError(path, raw.line_of("between"), f"{key}.between", "lower bound is above upper bound")
    return Assertion(line=raw.line, raw=raw, subject=subject, comparator=comparator, operand=operand)


def _check_features(path: str, spec: YamlMap, key: str, package: str, features: tuple[str, ...]) -> None:
    """Features the package does not declare are refused here, naming the line, rather than by cargo later."""
    from hil.deploy.firmware_build import cargo_features
    declared = cargo_features(package)
    if declared is None:
        return          # no readable Cargo.toml: the build says what is wrong
    unknown = [f for f in features if f not in declared]
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ConfigError(path, spec.line_of("features"), f"{key}.features",
                          f"{package} has no cargo feature {unknown[0]!r} (it has: {known})")


def load_scenario(path: str | Path, project_root: Path) -> Scenario:
    path_text = str(path)
    document = load_yaml_file(path)
    validate(document, load_schema("scenario.schema.json"), path_text)
    boards: dict[str, BoardRole] = {}
    for role, spec in document["boards"].items():
        at = f"boards.{role}"
        runtime = Runtime(spec["runtime"])   # the schema admits only the Runtime values
        if runtime is Runtime.RUST and "deploy" in spec:
            raise ConfigError(path_text, spec.line_of("deploy"), f"{at}.deploy", "a rust board gets 'firmware', not 'deploy'")
        if runtime is Runtime.RUST and "deploy_verify" in spec:
            raise ConfigError(path_text, spec.line_of("deploy_verify"), f"{at}.deploy_verify",
                              "only a micropython board is deployed to; a rust board's flash is checked by its build id")
        if runtime is Runtime.MICROPYTHON and "firmware" in spec:
            raise ConfigError(path_text, spec.line_of("firmware"), f"{at}.firmware",
                              "a micropython board gets 'deploy', not 'firmware'")
        if runtime is Runtime.RUST and spec.get("provision", True) and "firmware" not in spec:
            raise ConfigError(path_text, spec.line, f"{at}.firmware", "a rust board needs the firmware to flash")
        firmware = spec.get("firmware") if isinstance(spec.get("firmware"), str) else None   # {package:} below
        if firmware and "/" not in firmware and "." not in firmware and not FIRMWARE_NAME.fullmatch(firmware):
            raise ConfigError(path_text, spec.line_of("firmware"), f"{at}.firmware",
                              f"{firmware!r} is neither a path nor a firmware name (letters, digits, - and _)")
        if firmware and ("/" in firmware or "." in firmware):   # a path, not a binary name of firmware_rust/
            target = (project_root / firmware).resolve()
            if not target.is_relative_to(project_root.resolve()):
                raise ConfigError(path_text, spec.line_of("firmware"), f"{at}.firmware", "must be inside the project")
            if not target.exists():
                raise ConfigError(path_text, spec.line_of("firmware"), f"{at}.firmware", f"{firmware} does not exist")
        for index, item in enumerate(spec.get("deploy", [])):
            target = (project_root / item).resolve()
            if not target.is_relative_to(project_root.resolve()):
                raise ConfigError(path_text, spec["deploy"].line_of(index), f"{at}.deploy[{index}]",
                                  "must be inside the project")
            if not target.exists():
                raise ConfigError(path_text, spec["deploy"].line_of(index), f"{at}.deploy[{index}]",
                                  f"{item} does not exist")
            if not (target.is_file() or target.is_dir()):
                raise ConfigError(path_text, spec["deploy"].line_of(index), f"{at}.deploy[{index}]",
                                  f"{item} is neither a regular file nor a folder")
            if target.is_dir():
                try:  # the same planner the deployment runs: a link leaving the project is refused now
                    plan_files([target], within=project_root)
                except ConfigError as error:
                    raise ConfigError(path_text, spec["deploy"].line_of(index), f"{at}.deploy[{index}]",
                                      f"{error.path} {error.message}") from None
        firmware = spec.get("firmware")
        features: tuple[str, ...] = ()
        if isinstance(firmware, dict):
            firmware, features = firmware["package"], tuple(sorted(firmware.get("features", [])))
            _check_features(path_text, spec["firmware"], f"{at}.firmware", firmware, features)
        boards[role] = BoardRole(role, runtime, firmware, list(spec.get("deploy", [])),
                                 spec.get("provision", True), document["boards"].line_of(role),
                                 bool(spec.get("deploy_verify", False)), features)
    if len(document["steps"]) > MAX_STEPS:
        raise ConfigError(path_text, document.line_of("steps"), "steps", f"more than {MAX_STEPS} steps")
    steps = [_step(path_text, i, raw, boards) for i, raw in enumerate(document["steps"])]
    seen: dict[str, int] = {}
    for step in steps:
        for name in [r.metric for r in step.records] + [n for n in (step.record_elapsed, step.record_rate) if n]:
            if name in seen:
                raise ConfigError(path_text, step.line, f"steps[{step.index}].record",
                                  f"metric {name!r} is already recorded at line {seen[name]}")
            seen[name] = step.line
    for index, tag in enumerate(document.get("tags", [])):
        if tag in RESERVED_TAGS or keyword.iskeyword(tag):
            raise ConfigError(path_text, document["tags"].line_of(index), f"tags[{index}]",
                              f"{tag!r} cannot be a tag: pytest gives that marker name its own meaning")
    known = set(seen)
    assertions = [_assertion(path_text, i, raw, known, set(boards)) for i, raw in enumerate(document.get("assert", []))]
    return Scenario(path=Path(path), name=document["scenario"], claim=document["claim"], boards=boards,
                    steps=steps, assertions=assertions, tags=list(document.get("tags", [])),
                    lesson=document.get("lesson"), contradicts_lesson=document.get("contradicts_lesson"))
