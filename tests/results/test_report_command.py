"""`hil report RESULTS... -o report.html [--merged-results out.json]`."""
from __future__ import annotations

import argparse
import json

from hil.commands import report
from tests.results.page_parser import parse_page
from tests.results.sample_documents import lesson_document


def hil_report(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hil")
    report.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", *argv])
    return args.func(args)


def write(path, document):
    path.write_text(json.dumps(document))
    return str(path)


def test_report_of_two_runners_writes_the_page_and_the_merged_results(tmp_path, capsys):
    a = write(tmp_path / "a.json", lesson_document(host="runner-a"))
    b = write(tmp_path / "b.json", lesson_document(host="runner-b", started_at="2026-11-24T10:00:00+0000"))
    out = tmp_path / "site" / "report.html"
    merged = tmp_path / "merged.json"
    assert hil_report([a, b, "-o", str(out), "--merged-results", str(merged)]) == 0
    page = parse_page(out.read_text(encoding="utf-8"))
    # one scorecard row per claim, one verdict per runner in it
    assert page.problems == [] and len(page.find_all("tr", "score")) == 7
    assert len([e for e in page.elements if "data-verdict" in e.attrs]) == 14
    document = json.loads(merged.read_text())
    assert [run["host"] for run in document["runs"]] == ["runner-a", "runner-b"]
    stdout = capsys.readouterr().out
    assert "14 claim(s) from 2 run(s)" in stdout and str(out) in stdout


def test_the_merged_results_can_be_reported_again(tmp_path):
    a = write(tmp_path / "a.json", lesson_document(host="runner-a"))
    merged = tmp_path / "merged.json"
    assert hil_report([a, "-o", str(tmp_path / "r1.html"), "--merged-results", str(merged)]) == 0
    assert hil_report([str(merged), "-o", str(tmp_path / "r2.html")]) == 0
    assert len(parse_page((tmp_path / "r2.html").read_text()).find_all("tr", "score")) == 7


def test_an_invalid_file_is_one_line_naming_it_and_exit_code_2(tmp_path, capsys):
    good = write(tmp_path / "good.json", lesson_document())
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    out = tmp_path / "report.html"
    assert hil_report([good, str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"hil report: {bad}:") and "not valid JSON" in err
    assert not out.exists()


def test_an_unwritable_output_is_exit_code_1(tmp_path, capsys):
    good = write(tmp_path / "good.json", lesson_document())
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert hil_report([good, "-o", str(blocker / "report.html")]) == 1
    assert "cannot write results to" in capsys.readouterr().err


def test_the_hil_command_line_runs_the_report_subcommand(tmp_path, capsys):
    from hil.cli import main
    good = write(tmp_path / "good.json", lesson_document())
    assert main(["report", good, "-o", str(tmp_path / "report.html")]) == 0
    assert (tmp_path / "report.html").exists()
    assert main(["report", str(tmp_path / "missing.json"), "-o", str(tmp_path / "other.html")]) == 2
    assert capsys.readouterr().err == f"hil report: {tmp_path / 'missing.json'}: results file not found\n"


def test_a_results_file_with_a_non_finite_number_is_refused_in_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    hil = Path(sys.executable).with_name("hil")
    for literal in ("NaN", "Infinity", "1e999"):
        path = tmp_path / f"{literal}.json"
        path.write_text('{"format": "pico-hil-results/1", "run": {}, "claims": [{"metrics": [{"value": %s}]}]}'
                        % literal)
        run = subprocess.run([str(hil), "report", str(path), "-o", str(tmp_path / "r.html")], capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 2
        assert run.stderr.strip() == f"hil report: {path}: not a results file: {literal} is not a finite number"
