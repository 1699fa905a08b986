"""The README's main job, end to end: every lesson scenario on the simulated bench, with all three reports.

This is what a new user sees after `./run lesson`: every claim is judged on the simulated bench (both runtimes run
on the emulated RP2040, on its virtual clock) and passes; junit.xml, results.json and report.html are written.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUITE_TIMEOUT_S = 1500
JUDGED = {"deploy-time", "panic-vs-exception", "result-vs-exception", "repl-round-trip", "serial-throughput",
          "dual-core-rust", "compute-throughput", "gc-jitter", "free-memory", "dual-core-micropython",
          "micropython-stdin-throughput"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1


@pytest.fixture(scope="module")
def lesson_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    env = dict(os.environ, HIL_SIM_DIR=str(tmp_path_factory.mktemp("sim")),
               HIL_LOCK_DIR=str(tmp_path_factory.mktemp("locks")))
    env.pop("HIL_BENCH", None)
    argv = [sys.executable, "-m", "pytest", "-m", "hil", "scenarios", "-p", "no:cacheprovider", "-q",
            f"--junitxml={reports / 'junit.xml'}", f"--hil-results={reports / 'results.json'}",
            f"--hil-report={reports / 'report.html'}"]
    completed = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                               timeout=SUITE_TIMEOUT_S)
    return completed, reports


def test_the_lesson_suite_passes_on_the_simulated_bench(lesson_run):
    completed, _ = lesson_run
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]


def test_every_scenario_is_judged_and_passes(lesson_run):
    _, reports = lesson_run
    claims = {c["scenario"]: c for c in json.loads((reports / "results.json").read_text())["claims"]}
    assert set(claims) == JUDGED
    for name in JUDGED:
        assert claims[name]["status"] == "passed", (name, claims[name].get("reason"))


def test_metrics_carry_unit_clock_domain_and_board(lesson_run):
    _, reports = lesson_run
    claims = {c["scenario"]: c for c in json.loads((reports / "results.json").read_text())["claims"]}
    compute = {m["name"]: m for m in claims["compute-throughput"]["metrics"]}
    assert compute["rust_sort_us"]["clock_domain"] == "rp2040js-virtual"
    assert compute["mpy_sort_us"]["clock_domain"] == "rp2040js-virtual"
    assert compute["rust_sort_us"]["unit"] == "us" and compute["rust_sort_us"]["board"]
    deploy = {m["name"]: m for m in claims["deploy-time"]["metrics"]}
    assert deploy["mpy_deploy_s"]["clock_domain"] == deploy["rust_deploy_s"]["clock_domain"] == "host"
    assert deploy["mpy_deploy_s"]["value"] < deploy["rust_deploy_s"]["value"]


def test_each_claim_has_its_verdict_and_the_lessons_sentence(lesson_run):
    _, reports = lesson_run
    claims = {c["scenario"]: c for c in json.loads((reports / "results.json").read_text())["claims"]}
    for name in JUDGED:
        assert claims[name]["verdict"] == "holds", (name, claims[name].get("reason"))
    assert all(claim["lesson"] for claim in claims.values())
    assert claims["dual-core-micropython"]["contradicts_lesson"]
    html = (reports / "report.html").read_text()
    assert "simulated bench" in html and 'class="scorecard"' in html


def test_evidence_keeps_the_panic_and_the_traceback(lesson_run):
    _, reports = lesson_run
    claims = {c["scenario"]: c for c in json.loads((reports / "results.json").read_text())["claims"]}
    evidence = claims["panic-vs-exception"]["evidence"]
    assert evidence["panic"].startswith("PANIC ") and ".rs:" in evidence["panic"]
    assert "ZeroDivisionError" in evidence["traceback"]
    assert any(kind.startswith("serial-") for kind in evidence)


def test_junit_has_one_case_per_scenario_with_metric_properties(lesson_run):
    _, reports = lesson_run
    cases = list(ET.parse(reports / "junit.xml").iter("testcase"))
    assert len(cases) == len(JUDGED)
    names = {p.get("name") for p in ET.parse(reports / "junit.xml").iter("property")}
    assert "hil.metric.rust_deploy_s" in names and "hil.claim" in names


def test_the_report_is_one_page_with_a_chart_per_comparison(lesson_run):
    _, reports = lesson_run
    html = (reports / "report.html").read_text()
    parser = _Tags()
    parser.feed(html)
    assert parser.tags.get("svg", 0) >= 3
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "Rust has no garbage collector" in html  # the claims are there in words


def test_serial_logs_are_kept_per_test_and_board(lesson_run):
    _, reports = lesson_run
    logs = list((reports / "logs").rglob("*.log"))
    assert len(logs) >= len(JUDGED)
    assert any("OK pong" in log.read_text() for log in logs)


def test_the_junit_of_the_lesson_run_validates_and_shows_logs_and_metrics_in_system_out(lesson_run):
    """What Jenkins / GitLab / GitHub reporters display for the real run: schema-valid, `scenarios.<name>` as
    classname (no `.yaml` for Jenkins to split on), the serial log excerpts and each metric with its clock."""
    import xmlschema

    _, reports = lesson_run
    xmlschema.XMLSchema(str(PROJECT_ROOT / "tests" / "results" / "resources" / "jenkins-junit.xsd")).validate(
        str(reports / "junit.xml"))
    cases = list(ET.parse(reports / "junit.xml").iter("testcase"))
    assert cases and all(not case.get("classname").endswith(".yaml") for case in cases)
    for case in cases:
        out = case.findtext("system-out") or ""
        assert "== serial-sim-rust-0" in out or "== serial-sim-mpy-0" in out, (case.get("name"), out[:500])
        assert "== metrics (value unit, clock)" in out and "(clock: " in out, (case.get("name"), out[:500])
