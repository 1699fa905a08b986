"""A results folder that cannot be written: refused in one line before any test runs; and if it goes away during
the run, the run says so once and goes on, JUnit still written, and its exit status says something failed."""
from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]

FAIL_FAST_S = 10.0   # includes starting a Python process with pytest


def test_a_results_path_that_cannot_be_created_stops_the_run_at_once_in_one_line(pytester):
    pytester.makepyfile("def test_x(): pass")
    (pytester.path / "reports").write_text("a file where the results folder should be")
    started_at = time.monotonic()
    result = pytester.runpytest_subprocess("--hil-results=reports/results.json")
    assert time.monotonic() - started_at < FAIL_FAST_S
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert "cannot write results to reports/results.json" in errors and "(results from --hil-results)" in errors
    assert "Traceback" not in errors and "INTERNALERROR" not in errors + result.stdout.str()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_results_folder_stops_the_run_at_once(pytester):
    pytester.makepyfile("def test_x(): pass")
    (pytester.path / "reports").mkdir(mode=0o500)
    result = pytester.runpytest_subprocess("--hil-results=reports/results.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "cannot write results to reports/results.json: folder is not writable" in result.stderr.str()


def test_a_results_folder_that_goes_away_mid_run_is_reported_and_the_run_goes_on(pytester):
    pytester.makepyfile(test_run="""
        import pathlib, shutil
        def test_first():
            pass
        def test_takes_the_folder_away():
            shutil.rmtree("reports")
            pathlib.Path("reports").write_text("the folder is gone")
        def test_after():
            pass
    """)
    (pytester.path / "reports").mkdir()
    result = pytester.runpytest_subprocess("--hil-results=reports/results.json", "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*hil results: cannot write results to reports/results.json*"
                                 "the run goes on without them*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    cases = {case.get("name") for case in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    assert cases == {"test_first", "test_takes_the_folder_away", "test_after"}
