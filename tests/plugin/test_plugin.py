"""The pytest plugin: settings precedence, metrics into JUnit and the results JSON, incremental writing,
clean ends on SIGTERM, and one-line errors for bad bench and scenario files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from hil.run_settings import resolve

pytest_plugins = ["pytester"]


def test_setting_precedence_is_cli_then_env_then_ini_then_default():
    env = {"HIL_BENCH": "from-env.yaml"}
    assert resolve("bench", "cli.yaml", "ini.yaml", env).source == "--hil-bench"
    assert resolve("bench", None, "ini.yaml", env) == resolve("bench", "", "ini.yaml", env)
    assert resolve("bench", None, "ini.yaml", env).value == "from-env.yaml"
    assert resolve("bench", None, "ini.yaml", {}).source == "ini hil_bench"
    assert resolve("bench", None, None, {}).value == "sim"


def test_report_header_says_which_bench_and_where_it_came_from(pytester, monkeypatch):
    monkeypatch.delenv("HIL_BENCH", raising=False)
    pytester.makeini("[pytest]\nhil_bench = sim\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["hil bench: sim (from ini hil_bench)"])


def test_recorded_metrics_reach_junit_properties_and_the_results_json(pytester):
    pytester.makepyfile("""
        def test_fast(hil_record):
            hil_record("rust_crc32_us", 1234, "us", "device", board="pico-a")
    """)
    result = pytester.runpytest("--junitxml=junit.xml", "--hil-results=out/results.json")
    result.assert_outcomes(passed=1)
    properties = {p.get("name"): p.get("value") for p in ET.parse(pytester.path / "junit.xml").iter("property")}
    assert json.loads(properties["hil.metric.rust_crc32_us"])["value"] == 1234
    document = json.loads((pytester.path / "out" / "results.json").read_text())
    (claim,) = document["claims"]
    assert claim["status"] == "passed"
    assert claim["metrics"] == [{"name": "rust_crc32_us", "value": 1234, "unit": "us", "clock_domain": "device",
                                 "board": "pico-a"}]
    assert document["run"]["finished_at"] and document["run"]["interrupted"] is False
    # what the run says about its bench: boards, which clock times what, and the tools' versions
    facts = document["run"]["bench_facts"]
    assert facts["clock_domains"] == {"host": "host", "micropython": "rp2040js-virtual", "rust": "rp2040js-virtual"}
    assert {b["runtime"] for b in facts["boards"]} == {"rust", "micropython"}
    assert set(document["run"]["tool_versions"]) >= {"node", "probe-rs", "picotool", "mpremote"}


def test_an_unknown_clock_domain_is_refused(pytester):
    pytester.makepyfile("""
        import pytest
        def test_bad(hil_record):
            with pytest.raises(ValueError, match="unknown clock domain 'wall'"):
                hil_record("x_us", 1, "us", "wall")
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_results_are_written_after_each_test_not_only_at_the_end(pytester):
    pytester.makepyfile("""
        import json, pathlib
        def test_first(hil_record):
            hil_record("a_s", 1.5, "s", "host")
        def test_second():
            document = json.loads(pathlib.Path("results.json").read_text())
            assert [c["name"] for c in document["claims"]] == ["test_first"]
    """)
    pytester.runpytest("--hil-results=results.json").assert_outcomes(passed=2)


def test_failures_and_skips_keep_their_reason(pytester):
    pytester.makepyfile("""
        import pytest
        def test_fails():
            assert 1 == 2, "the claim does not hold"
        def test_skips():
            pytest.skip("not comparable on this bench: different clocks")
    """)
    pytester.runpytest("--hil-results=r.json")
    claims = {c["name"]: c for c in json.loads((pytester.path / "r.json").read_text())["claims"]}
    assert claims["test_fails"]["status"] == "failed"
    assert "the claim does not hold" in claims["test_fails"]["evidence"]["failure"]
    assert claims["test_skips"]["status"] == "not-comparable"
    assert claims["test_skips"]["reason"] == "not comparable on this bench: different clocks"


def test_a_second_run_naming_the_same_results_file_is_refused_and_the_first_keeps_its_claims(pytester):
    pytester.makepyfile(test_one="def test_first(): pass")
    from hil.results.results_file import ResultsFile
    first = ResultsFile(pytester.path / "r.json", {"argv": ["first"]})   # a run still writing r.json
    first.add_claim({"id": "test_one.py::test_first", "status": "passed"})
    try:
        result = pytester.runpytest_subprocess("--hil-results=r.json", timeout=120)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert f"another run is writing it (pid {os.getpid()}" in result.stderr.str()
        kept = json.loads((pytester.path / "r.json").read_text())
        assert kept["run"]["argv"] == ["first"] and [c["id"] for c in kept["claims"]] == ["test_one.py::test_first"]
    finally:
        first.close()
    pytester.runpytest_subprocess("--hil-results=r.json", timeout=120).assert_outcomes(passed=1)   # free again
    assert json.loads((pytester.path / "r.json").read_text())["run"]["argv"] != ["first"]


def test_sigterm_mid_run_leaves_valid_junit_and_results_with_the_interrupted_test_marked(pytester):
    pytester.makepyfile(test_slow="""
        import pathlib, time
        def test_done():
            pass
        def test_long():
            pathlib.Path("started").write_text("1")
            time.sleep(60)
        def test_never():
            pass
    """)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml=junit.xml",
                             "--hil-results=results.json", "test_slow.py"], cwd=pytester.path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (pytester.path / "started").exists():
        assert time.monotonic() < deadline, "the test never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output.decode()
    ET.parse(pytester.path / "junit.xml")  # well-formed
    document = json.loads((pytester.path / "results.json").read_text())
    statuses = {c["name"]: c["status"] for c in document["claims"]}
    assert statuses == {"test_done": "passed", "test_long": "interrupted"}
    assert document["run"]["interrupted"] is True


def test_a_malformed_bench_file_stops_the_run_with_one_line_naming_file_line_and_key(pytester):
    pytester.makefile(".yaml", bench="boards:\n  - id: a\n    runtime: rust\n    colour: red\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--hil-bench=bench.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bench.yaml:4: boards[0].colour: unknown key" in result.stderr.str()
    assert "(bench from --hil-bench)" in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_a_malformed_scenario_is_a_one_line_collection_error(pytester):
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "bad.yaml").write_text(
        "scenario: bad\nclaim: x\nboards:\n  r: {runtime: rust, firmware: lesson}\n"
        "steps:\n  - {on: r, command: id, expect: '(unclosed'}\n")
    result = pytester.runpytest("-m", "hil")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's code for collection errors
    assert "scenarios/bad.yaml:6: steps[0].expect: invalid regex '(unclosed'" in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_a_bench_file_that_does_not_exist_is_an_error_not_the_simulator(pytester):
    pytester.makepyfile("def test_x(bench): pass")
    result = pytester.runpytest("--hil-bench=lab-bench.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "lab-bench.yaml: bench file not found" in result.stderr.str()


def test_an_absent_board_of_a_bench_file_fails_the_scenario_naming_it_and_never_uses_the_simulator(pytester):
    pytester.makefile(".yaml", bench="boards:\n  - {id: lab-pico, runtime: micropython, "
                                     "serial_number: NOT-ATTACHED-0001}\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "repl.yaml").write_text(
        "scenario: repl\nclaim: the REPL answers\nboards:\n  mpy: {runtime: micropython, provision: false}\n"
        "steps:\n  - {on: mpy, exec: 'print(1)', expect: '1', timeout_s: 2}\n")
    result = pytester.runpytest_subprocess("-m", "hil", "--hil-bench=bench.yaml", "--hil-results=r.json",
                                           timeout=120)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (claim,) = json.loads((pytester.path / "r.json").read_text())["claims"]
    assert claim["status"] == "failed"
    assert "lab-pico" in claim["reason"] and "NOT-ATTACHED-0001" in claim["evidence"]["failure"]
    assert "waited 2 s" in claim["evidence"]["failure"]   # the step's own timeout_s bounds the search
    assert "sim" not in {b.get("id", "")[:3] for b in claim["boards"].values()}
