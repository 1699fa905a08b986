"""Recording results from pytest: what a test attaches to its report, and the controller that writes claims.

Tests attach metrics, board facts and evidence to their `user_properties` (which pytest's own --junitxml writes
as <properties>, and which pytest-xdist carries from workers to the controller); the controller's
ResultsRecorder turns each finished test's reports into a claim in the results JSON, rewritten after every test.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pytest

from hil.errors import ResultsNotWritable
from hil.results.metric import Metric
from hil.results.results_file import ResultsFile
from hil.results.verdict import verdict_of

METRIC_PREFIX = "hil.metric."
BOARD_PREFIX = "hil.board."
EVIDENCE_PREFIX = "hil.evidence."
CLAIM_PROPERTY = "hil.claim"
SCENARIO_PROPERTY = "hil.scenario"
ASSERTION_PROPERTY = "hil.assertion"
# Scenario text carried into each claim as is: the lesson's sentence, and where the Pico contradicts it.
TEXT_PROPERTIES = {"hil.lesson": "lesson", "hil.contradicts_lesson": "contradicts_lesson"}
NOT_COMPARABLE_PREFIX = "not comparable on this bench"
EVIDENCE_LIMIT_CHARS = 4000
TEST_PHASES = ("setup", "call", "teardown")


def record_metric(item: pytest.Item, metric: Metric) -> None:
    item.user_properties.append((METRIC_PREFIX + metric.name, json.dumps(metric.to_json())))


def record_board(item: pytest.Item, board_facts: dict) -> None:
    item.user_properties.append((BOARD_PREFIX + board_facts["id"], json.dumps(board_facts, default=str)))


def record_evidence(item: pytest.Item, kind: str, text: str) -> None:
    item.user_properties.append((EVIDENCE_PREFIX + kind, text[-EVIDENCE_LIMIT_CHARS:]))


def record_assertion(item: pytest.Item, record: dict) -> None:
    """One judged assertion: measured value, bound, the lesson's figure and its outcome (see verdict.py)."""
    item.user_properties.append((ASSERTION_PROPERTY, json.dumps(record, default=str)))


class ItemRecorder:
    """What one test records, attached to its pytest item (the `Recorder` a BoardLease and a scenario write to)."""

    def __init__(self, item: pytest.Item):
        self.item = item

    def metric(self, metric: Metric) -> None:
        record_metric(self.item, metric)

    def board(self, board_facts: dict) -> None:
        record_board(self.item, board_facts)

    def evidence(self, kind: str, text: str) -> None:
        record_evidence(self.item, kind, text)

    def assertion(self, record: dict) -> None:
        record_assertion(self.item, record)


class ResultsRecorder:
    """Controller side: turns test reports into claims in the results JSON (when --hil-results is given)."""

    def __init__(self, config: pytest.Config, run_dir: Path, path: str | None, run_facts: Callable[[], dict]):
        """`path`: the results JSON (None: keep claims in memory only); `run_facts()` is asked only when there
        is a results JSON or a JUnit file to write."""
        self.config = config
        self.run_dir = run_dir
        self.claims: dict[str, dict] = {}
        self.running: dict[str, float] = {}
        self.write_error: ResultsNotWritable | None = None
        self.results: ResultsFile | None = None
        self.run_facts: dict = {}
        if path or getattr(config.option, "xmlpath", None):   # the JUnit file carries the run's facts too
            self.run_facts = {"argv": list(config.invocation_params.args), "logs_dir": str(run_dir / "logs"),
                              **run_facts()}
        if path:
            self.results = ResultsFile(path, self.run_facts)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup":
            self.running[report.nodeid] = time.time()
        self.add_report(report)

    def add_report(self, report: pytest.TestReport) -> None:
        claim = self.claims.setdefault(report.nodeid, {
            "id": report.nodeid, "name": report.nodeid.split("::")[-1], "claim": None, "scenario": None,
            "status": "passed", "duration_s": 0.0, "metrics": [], "boards": {}, "evidence": {}, "reason": None,
        })
        claim["duration_s"] = round(claim["duration_s"] + report.duration, 6)
        for name, value in report.user_properties:
            if name.startswith(METRIC_PREFIX):
                metric = json.loads(value)
                if metric not in claim["metrics"]:
                    claim["metrics"].append(metric)
            elif name.startswith(BOARD_PREFIX):
                claim["boards"][name[len(BOARD_PREFIX):]] = json.loads(value)
            elif name.startswith(EVIDENCE_PREFIX):
                claim["evidence"][name[len(EVIDENCE_PREFIX):]] = value
            elif name == CLAIM_PROPERTY:
                claim["claim"] = value
            elif name == SCENARIO_PROPERTY:
                claim["scenario"] = value
            elif name in TEXT_PROPERTIES:
                claim[TEXT_PROPERTIES[name]] = value
            elif name == ASSERTION_PROPERTY:
                record = json.loads(value)
                claim.setdefault("assertions", [])
                if record not in claim["assertions"]:
                    claim["assertions"].append(record)
        status = _status_of(report)
        if status != "passed" or report.when == "call":
            if _rank(status) >= _rank(claim["status"]):
                claim["status"] = status
        if report.skipped:
            claim["reason"] = _skip_reason(report)
        elif report.failed:
            # A framework error's report is its message (see pytest_runtest_makereport): its first line says it all.
            claim["reason"] = (report.longrepr.strip().splitlines()[0] if isinstance(report.longrepr, str)
                               and report.longrepr.strip() else _first_line(report.longreprtext))
            claim["evidence"].setdefault("failure", report.longreprtext[-EVIDENCE_LIMIT_CHARS:])
        claim["verdict"] = verdict_of(claim)
        # pytest-xdist reports an item whose worker died with a phase of its own ("???"): nothing follows it.
        if report.when == "teardown" or (report.when == "setup" and not report.passed) \
                or report.when not in TEST_PHASES:
            self.finish(report.nodeid)

    def finish(self, nodeid: str) -> None:
        self.running.pop(nodeid, None)
        claim = self.claims.get(nodeid)
        if claim is not None and self.results is not None:
            try:
                self.results.add_claim(claim)
            except ResultsNotWritable as error:
                self._cannot_write(error)

    def _cannot_write(self, error: ResultsNotWritable) -> None:
        """The results folder went away or became read-only mid-run: say so once and let the run go on (JUnit
        and the serial logs still record it); the run's exit status then says it failed."""
        if self.write_error is None:
            self.write_error = error
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            if terminal is not None:
                terminal.write_line(f"hil results: {error}; the run goes on without them", red=True)

    def interrupted(self) -> None:
        for nodeid in list(self.running):
            claim = self.claims.setdefault(nodeid, {"id": nodeid, "name": nodeid.split("::")[-1], "metrics": [],
                                                    "boards": {}, "evidence": {}, "duration_s": 0.0})
            claim["status"] = "interrupted"
            claim["reason"] = "the run was interrupted while this test was running"
            claim["verdict"] = verdict_of(claim)
            self.finish(nodeid)

    def close(self, interrupted: bool) -> dict:
        if interrupted:
            self.interrupted()
        fields = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "interrupted": interrupted}
        if self.results is not None:
            try:
                self.results.update_run(**fields)
            except ResultsNotWritable as error:
                self._cannot_write(error)
            finally:
                self.results.close()
            return self.results.document
        import socket
        return {"format": "pico-hil-results/1", "run": {"host": socket.gethostname(), **self.run_facts, **fields},
                "claims": list(self.claims.values())}


_RANKS = {"passed": 0, "skipped": 1, "not-comparable": 1, "failed": 2, "error": 3, "interrupted": 4}


def _rank(status: str) -> int:
    return _RANKS.get(status, 0)


def _status_of(report: pytest.TestReport) -> str:
    if report.passed:
        return "passed"
    if report.skipped:
        reason = _skip_reason(report)
        return "not-comparable" if reason.startswith(NOT_COMPARABLE_PREFIX) else "skipped"
    return "failed" if report.when == "call" else "error"


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return _first_line(str(report.longrepr))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("E "):
            return line[2:].strip()
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
