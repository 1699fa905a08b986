"""The JUnit file reads well in CI viewers: classnames without the file suffix, metrics and serial-log excerpts in
<system-out>, the run's facts as suite properties, measured numbers in failure messages; it validates against a
JUnit schema Jenkins accepts, and `hil report` merges the files of several runners."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from hil.results.junit_file import junit_classname, merge_junit_files, pytest_junit_address, rewrite_junit

pytest_plugins = ["pytester"]
JENKINS_XSD = Path(__file__).parent / "resources" / "jenkins-junit.xsd"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# What pytest 9 writes with --junitxml for a scenario file (xunit2 family), before the rewrite.
PYTEST_SCENARIO_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="1" time="3.2"
 timestamp="2026-12-01T14:00:00" hostname="bench-host"><testcase classname="scenarios.compute_throughput.yaml"
 name="rust_is_faster" time="3.1"><properties><property name="hil.metric.rust_ms" value="{}"/>
<property name="hil.evidence.serial-pico-a" value="long log"/></properties>
<failure message="rust_ms &lt; 100 ms: failed">assertion text</failure></testcase></testsuite></testsuites>
"""
DOCUMENT = {
    "run": {"bench": "sim", "host": "bench-host", "tool_versions": {"picotool": "picotool v2.1.1 (Linux)"},
            "compiler_versions": {"rustc": "rustc 1.96.0", "cargo": "cargo 1.96.0"},
            "bench_facts": {"kind": "SimBench", "clock_domains": {"host": "host", "rust": "rp2040js-virtual"}}},
    "claims": [{"id": "scenarios/compute_throughput.yaml::rust_is_faster", "status": "failed",
                "metrics": [{"name": "rust_ms", "value": 176.2, "unit": "ms", "clock_domain": "rp2040js-virtual",
                             "board": "pico-a"}],
                "evidence": {"serial-pico-a": "/logs/pico-a.log\nREADY lesson 1.0\nRESULT 176.2",
                             "failure": "assertion text"},
                "boards": {"pico-a": {"id": "pico-a", "firmware": "lesson", "firmware_version": "1.0",
                                      "build_id": "abc123"}}}],
}


def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JENKINS_XSD))


def test_classname_loses_the_file_suffix_jenkins_would_take_for_the_class():
    assert junit_classname("scenarios/compute_throughput.yaml::rust_is_faster") == "scenarios.compute_throughput"
    assert junit_classname("tests/plugin/test_plugin.py::test_x") == "tests.plugin.test_plugin"
    assert pytest_junit_address("scenarios/compute_throughput.yaml::rust_is_faster") == (
        "scenarios.compute_throughput.yaml", "rust_is_faster")


def test_a_scenario_case_shows_metrics_logs_and_measured_numbers_where_viewers_look(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(PYTEST_SCENARIO_JUNIT)
    rewrite_junit(junit, DOCUMENT)
    schema().validate(str(junit))
    (case,) = ET.parse(junit).iter("testcase")
    assert case.get("classname") == "scenarios.compute_throughput"
    out = case.findtext("system-out")
    assert "rust_ms = 176.2 ms (clock: rp2040js-virtual, board pico-a)" in out
    assert "== serial-pico-a\n/logs/pico-a.log\nREADY lesson 1.0\nRESULT 176.2" in out
    assert case.find("failure").get("message") == "rust_ms < 100 ms: failed [measured: rust_ms=176.2 ms " \
                                                  "(rp2040js-virtual)]"
    names = [p.get("name") for p in case.iter("property")]
    assert names == ["hil.metric.rust_ms"]     # evidence moved to system-out; metrics stay for tools
    suite = {p.get("name"): p.get("value") for p in ET.parse(junit).find("testsuite/properties")}
    assert suite["hil.bench"] == "sim" and suite["hil.host"] == "bench-host"
    assert suite["hil.tool.picotool"] == "picotool v2.1.1 (Linux)"
    assert suite["hil.compiler.rustc"] == "rustc 1.96.0" and suite["hil.compiler.cargo"] == "cargo 1.96.0"
    assert suite["hil.firmware.pico-a"] == "lesson 1.0 abc123"
    assert suite["hil.clock.rust"] == "rp2040js-virtual"


def test_the_schema_refuses_what_jenkins_would_not_read(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="x" tests="1"><testcase classname="a" time="fast"/></testsuite>'
                   '</testsuites>')
    assert not schema().is_valid(str(bad))   # no name, time not a number


def test_a_pytest_run_writes_a_valid_junit_file_with_logs_in_system_out(pytester):
    pytester.makepyfile(test_claims="""
        from hil.results.pytest_results import record_evidence
        def test_measured(hil_record, request):
            hil_record("rust_crc32_us", 1234, "us", "device", board="pico-a")
            record_evidence(request.node, "serial-pico-a", "READY lesson\\nRESULT 1234")
        def test_too_slow(hil_record):
            hil_record("mpy_crc32_us", 98765, "us", "device", board="pico-b")
            assert 98765 < 5000, "MicroPython too slow"
    """)
    result = pytester.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(passed=1, failed=1)
    junit = pytester.path / "junit.xml"
    schema().validate(str(junit))
    cases = {case.get("name"): case for case in ET.parse(junit).iter("testcase")}
    assert "READY lesson\nRESULT 1234" in cases["test_measured"].findtext("system-out")
    assert "rust_crc32_us = 1234 us (clock: device, board pico-a)" in cases["test_measured"].findtext("system-out")
    assert "mpy_crc32_us=98765 us (device)" in cases["test_too_slow"].find("failure").get("message")
    suite = {p.get("name"): p.get("value") for p in ET.parse(junit).find("testsuite/properties")}
    assert suite["hil.bench"] == "sim" and "hil.tool.picotool" in suite and suite["hil.host"]


def test_hil_report_merges_the_junit_files_of_several_runners(tmp_path):
    files = []
    for host in ("runner-a", "runner-b"):
        junit = tmp_path / f"{host}.xml"
        junit.write_text(PYTEST_SCENARIO_JUNIT.replace("bench-host", host))
        rewrite_junit(junit, {**DOCUMENT, "run": {**DOCUMENT["run"], "host": host}})
        files.append(junit)
    merged = tmp_path / "merged" / "junit.xml"
    assert merge_junit_files(files, merged) == 2
    schema().validate(str(merged))
    suites = ET.parse(merged).getroot().findall("testsuite")
    assert [s.get("hostname") for s in suites] == ["runner-a", "runner-b"]
    for suite in suites:
        (case,) = suite.iter("testcase")
        assert case.get("classname") == "scenarios.compute_throughput"
        assert "RESULT 176.2" in case.findtext("system-out")
        assert "[measured: rust_ms=176.2 ms" in case.find("failure").get("message")


def test_a_file_that_is_not_junit_is_named_in_a_one_line_error(tmp_path):
    not_junit = tmp_path / "results.json"
    not_junit.write_text("{}")
    result = subprocess.run([sys.executable, "-m", "hil.cli", "report", "--junit", str(not_junit),
                             "--merged-junit", str(tmp_path / "m.xml"), "-o", str(tmp_path / "r.html"),
                             str(tmp_path / "none.json")], capture_output=True, text=True, timeout=60,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 2
    assert str(not_junit) in result.stderr and "JUnit" in result.stderr


def test_an_unreadable_junit_file_is_left_alone_with_a_clear_error(tmp_path):
    from hil.errors import ResultsNotWritable
    junit = tmp_path / "junit.xml"
    junit.write_text("<testsuites><testsuite")
    try:
        rewrite_junit(junit, DOCUMENT)
    except ResultsNotWritable as error:
        assert "could not be read to rewrite it" in str(error)
    else:
        raise AssertionError("a truncated file must not pass silently")
    assert junit.read_text() == "<testsuites><testsuite"
