"""The JUnit file as CI viewers show it: pytest writes it, this makes it read well in Jenkins, GitLab and the GitHub
test reporters, and merges the files of several runners.

What those viewers display is the classname (split at its last dot into package and class), the test name, the
failure message and text, and <system-out>; per-test <properties> they ignore. So after pytest's --junitxml:
- classname "scenarios.compute_throughput.yaml" (Jenkins: class "yaml") becomes "scenarios.compute_throughput";
- each test's metrics (value, unit, clock) and evidence (serial-log excerpts, assertion outcomes) go into its
  <system-out>; metric and board properties stay for tools that read them, evidence properties move out;
- a failure's message carries the measured numbers;
- the run's facts (bench, host, tool and compiler versions, firmware banners) become suite <properties>.
"""
from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable, Sequence

from hil.errors import ConfigError, ResultsNotWritable
from hil.user_file import read_user_file

# A JUnit file of one runner: far below this. A FIFO or /dev/zero named by mistake must not hang `hil report`.
MAX_JUNIT_BYTES = 256_000_000

EVIDENCE_PROPERTY_PREFIX = "hil.evidence."
SCENARIO_SUFFIXES = (".yaml", ".yml", ".py")
PUBLISHED_FILE_MODE = 0o644
MESSAGE_METRICS_LIMIT = 8    # a failure message names at most this many measured numbers


def junit_classname(nodeid: str) -> str:
    """'scenarios/compute_throughput.yaml::x' -> 'scenarios.compute_throughput' (no file suffix for Jenkins to
    take as the class name)."""
    path = nodeid.split("::", 1)[0]
    for suffix in SCENARIO_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return path.replace("/", ".")


def pytest_junit_address(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's --junitxml writes them for `nodeid` (its mangle_test_address)."""
    parts = nodeid.split("::")
    classname = ".".join([re.sub(r"\.py$", "", parts[0].replace("/", ".")), *parts[1:-1]])
    return classname, parts[-1]


def metric_line(metric: dict) -> str:
    board = f", board {metric['board']}" if metric.get("board") else ""
    return (f"{metric['name']} = {metric['value']} {metric.get('unit', '')}".rstrip()
            + f" (clock: {metric.get('clock_domain', 'none')}{board})")


def system_out_text(claim: dict) -> str:
    """What a test's <system-out> shows: its metrics, then each piece of evidence under a heading."""
    sections = []
    if claim.get("metrics"):
        sections.append("== metrics (value unit, clock)\n" + "\n".join(metric_line(m) for m in claim["metrics"]))
    for kind, text in (claim.get("evidence") or {}).items():
        if kind == "failure":      # already the <failure> text
            continue
        sections.append(f"== {kind}\n{text.rstrip()}")
    return "\n\n".join(sections)


def failure_message(message: str, claim: dict) -> str:
    metrics = claim.get("metrics") or []
    if not metrics:
        return message
    shown = "; ".join(f"{m['name']}={m['value']} {m.get('unit', '')}".rstrip() + f" ({m.get('clock_domain')})"
                      for m in metrics[:MESSAGE_METRICS_LIMIT])
    more = f"; +{len(metrics) - MESSAGE_METRICS_LIMIT} more" if len(metrics) > MESSAGE_METRICS_LIMIT else ""
    return f"{message} [measured: {shown}{more}]"


def suite_properties(run: dict, claims: Iterable[dict]) -> list[tuple[str, str]]:
    """The run's facts as (name, value) pairs: bench, host, tool and compiler versions, firmware banners."""
    properties = []
    for key in ("bench", "host", "run_id", "started_at"):
        if run.get(key):
            properties.append((f"hil.{key}", str(run[key])))
    facts = run.get("bench_facts") or {}
    if facts.get("kind"):
        properties.append(("hil.bench.kind", str(facts["kind"])))
    for domain, clock in sorted((facts.get("clock_domains") or {}).items()):
        properties.append((f"hil.clock.{domain}", str(clock)))
    for tool, version in sorted((run.get("tool_versions") or {}).items()):
        properties.append((f"hil.tool.{tool}", str(version)))
    for tool, version in sorted((run.get("compiler_versions") or {}).items()):
        properties.append((f"hil.compiler.{tool}", str(version)))
    banners: dict[str, str] = {}
    for claim in claims:
        for board_id, board in (claim.get("boards") or {}).items():
            banner = " ".join(str(board[k]) for k in ("firmware", "firmware_version", "build_id", "micropython")
                              if board.get(k))
            if banner:
                banners.setdefault(str(board.get("id", board_id)), banner)
    properties += [(f"hil.firmware.{board_id}", banner) for board_id, banner in sorted(banners.items())]
    return properties


def _set_text(parent: ET.Element, tag: str, text: str) -> None:
    element = parent.find(tag)
    if element is None:
        element = ET.SubElement(parent, tag)
    element.text = f"{element.text.rstrip()}\n\n{text}" if element.text and element.text.strip() else text


def rewrite_junit(path: str | Path, document: dict) -> None:
    """Rewrite pytest's JUnit file at `path` in place for CI viewers, from the run's results `document`."""
    path = Path(path)
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError) as error:
        raise ResultsNotWritable(path, f"the JUnit file could not be read to rewrite it: {error}") from None
    claims = {pytest_junit_address(c["id"]): c for c in document.get("claims", []) if c.get("id")}
    root = tree.getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        properties = suite.find("properties")
        if properties is None:
            properties = ET.Element("properties")
            suite.insert(0, properties)
        for name, value in suite_properties(document.get("run", {}), document.get("claims", [])):
            ET.SubElement(properties, "property", name=name, value=value)
        for case in suite.iter("testcase"):
            claim = claims.get((case.get("classname", ""), case.get("name", "")))
            if claim is None:
                continue
            case.set("classname", junit_classname(claim["id"]))
            case_properties = case.find("properties")
            if case_properties is not None:
                for prop in list(case_properties):
                    if prop.get("name", "").startswith(EVIDENCE_PROPERTY_PREFIX):
                        case_properties.remove(prop)
                if not len(case_properties):
                    case.remove(case_properties)
            for outcome in (case.find("failure"), case.find("error")):
                if outcome is not None:
                    outcome.set("message", failure_message(outcome.get("message", ""), claim))
            text = system_out_text(claim)
            if text:
                _set_text(case, "system-out", text)
    _write_atomically(tree, path)


def _write_atomically(tree: ET.ElementTree, path: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".junit-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            tree.write(out, encoding="utf-8", xml_declaration=True)
        os.chmod(tmp, PUBLISHED_FILE_MODE)
        os.replace(tmp, path)
    except OSError as error:
        raise ResultsNotWritable(path, error.strerror or str(error)) from None


# -- merging the files of several runners ------------------------------------------------------------------

def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _suites_of(path: Path) -> list[ET.Element]:
    data = read_user_file(path, MAX_JUNIT_BYTES, "JUnit file")   # a regular file of sane size, or ConfigError
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise ConfigError(path, getattr(error, "position", (None,))[0], None,
                          f"not a readable JUnit XML file: {error}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ConfigError(path, None, None, f"not a JUnit XML file (root element <{root.tag}>)")
    return [root] if root.tag == "testsuite" else root.findall("testsuite")


def check_junit_files(paths: Sequence[str | Path]) -> None:
    """ConfigError naming the first of `paths` that is not a readable JUnit file."""
    for path in map(Path, paths):
        _suites_of(path)


def merge_junit_files(paths: Sequence[str | Path], output: str | Path) -> int:
    """One JUnit file holding every suite of `paths` (one per runner, named after its host), written with the
    junit-xml package. Returns the number of test cases."""
    from junit_xml import TestCase, TestSuite, to_xml_report_string

    suites = []
    for path in map(Path, paths):
        for suite in _suites_of(path):
            cases = []
            for case in suite.iter("testcase"):
                test = TestCase(case.get("name", ""), case.get("classname"), _float(case.get("time")),
                                stdout=(case.findtext("system-out") or None),
                                stderr=(case.findtext("system-err") or None),
                                file=case.get("file"), line=case.get("line"))
                for tag, add in (("failure", test.add_failure_info), ("error", test.add_error_info)):
                    element = case.find(tag)
                    if element is not None:
                        add(element.get("message") or tag, element.text or None, element.get("type"))
                skipped = case.find("skipped")
                if skipped is not None:
                    test.add_skipped_info(skipped.get("message") or "skipped", skipped.text or None)
                cases.append(test)
            properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
            host = suite.get("hostname") or properties.get("hil.host") or path.stem
            suites.append(TestSuite(f"{suite.get('name', 'pytest')} on {host}", cases, hostname=host,
                                    timestamp=suite.get("timestamp"), properties=properties))
    output = Path(output)
    text = to_xml_report_string(suites, encoding="utf-8")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".junit-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, PUBLISHED_FILE_MODE)
        os.replace(tmp, output)
    except OSError as error:
        raise ResultsNotWritable(output, error.strerror or str(error)) from None
    return sum(len(s.test_cases) for s in suites)
