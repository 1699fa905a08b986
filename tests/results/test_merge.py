"""Merging results from several runners: every run is kept, claims from different hosts stay separate rows
labelled with their run, and a merge can be merged again without doubling anything."""
from __future__ import annotations

import json

import pytest

from hil.errors import ConfigError
from hil.results.html_report import render_report
from hil.results.merge import load_and_merge, merge_documents
from tests.results.page_parser import parse_page
from tests.results.sample_documents import lesson_document, lesson_run


def two_runners():
    return [("a.json", lesson_document(host="runner-a", bench="benches/lab-a.yaml")),
            ("b.json", lesson_document(host="runner-b", bench="sim", started_at="2026-11-24T09:01:00+0000"))]


def test_runs_become_a_list_with_their_source_files():
    merged = merge_documents(two_runners())
    assert merged["format"] == "pico-hil-results/1"
    assert [(r["host"], r["bench"], r["source"]) for r in merged["runs"]] == [
        ("runner-a", "benches/lab-a.yaml", "a.json"), ("runner-b", "sim", "b.json")]
    assert "run" not in merged


def test_the_same_claim_from_two_hosts_stays_two_rows_side_by_side():
    merged = merge_documents(two_runners())
    assert len(merged["claims"]) == 2 * len(lesson_document()["claims"])
    ids = [c["id"] for c in merged["claims"]]
    assert ids == sorted(ids)
    sort_rows = [c for c in merged["claims"] if c["id"] == "scenarios/compute.yaml::bubble-sort"]
    assert [merged["runs"][c["run_index"]]["host"] for c in sort_rows] == ["runner-a", "runner-b"]


def hardware_and_simulated():
    return [("lab.json", lesson_run(simulated=False, host="lab-pi")),
            ("sim.json", lesson_run(simulated=True, host="ci-runner"))]


def test_merged_report_shows_each_claim_per_bench_side_by_side():
    merged = merge_documents(hardware_and_simulated())
    page = parse_page(render_report(merged))
    assert page.problems == []
    scorecard = page.find_all("table", "scorecard")[0]
    header = [page.text_of(th) for th in page.find_all("th") if "thead" in th.parents][:3]
    assert header == ["Lesson claim", "lab-pi · Picos E66138528361BD2A, E6614C311B4A2F21",
                      "ci-runner · simulated bench"]
    assert "scorecard" in scorecard.classes
    # One row per claim, one verdict per bench in it: the same claim is not two rows.
    rows = page.find_all("tr", "score")
    assert len(rows) == len(lesson_run()["claims"])
    dual = next(r for r in rows if r.attrs["data-claim"] == "dual-core-micropython")
    dual_text = page.text_of(dual)
    assert "MicroPython speed-up with a _thread on core 1: 1.9× (needs ≥ 1.2×)" in dual_text
    assert "[device clock]" in dual_text
    assert "this MicroPython port has no _thread" in dual_text
    verdicts = [c.attrs["data-verdict"] for c in page.elements if "data-verdict" in c.attrs]
    assert verdicts.count("holds") == 9 and verdicts.count("not comparable on this bench") == 1
    # Each claim's card has one column per bench, each with its verdict and its own charts, labelled.
    compute = next(a for a in page.find_all("article", "claim-card")
                   if a.attrs["data-claim"] == "compute-throughput")
    text = page.text_of(compute)
    assert "lab-pi · Picos E66138528361BD2A, E6614C311B4A2F21" in text and "ci-runner · simulated bench" in text
    assert "107.2×" in text and "98.3×" in text
    columns = [e for e in page.elements if e.tag == "div" and "bench-column" in e.classes and "data-run" in e.attrs]
    assert {c.attrs["data-run"] for c in columns} == {"0", "1"}
    captions = [page.text_of(c) for c in page.find_all("p", "caption")]
    assert any(c.endswith("· simulated bench") for c in captions)
    assert any(c.endswith("· Picos E66138528361BD2A, E6614C311B4A2F21") for c in captions)


def test_merged_report_of_two_runners_on_one_kind_of_bench_names_each_host():
    page = parse_page(render_report(merge_documents(two_runners())))
    assert page.problems == []
    header = [page.text_of(th) for th in page.find_all("th") if "thead" in th.parents][:3]
    assert header[0] == "Lesson claim"
    assert {"runner-a", "runner-b"} <= {h.split(" · ")[0] for h in header[1:]}


def test_merging_a_merge_with_one_of_its_sources_does_not_double_claims():
    once = merge_documents(two_runners())
    again = merge_documents([("merged.json", once), two_runners()[0]])
    assert len(again["runs"]) == 2
    assert len(again["claims"]) == len(once["claims"])
    assert [r["source"] for r in again["runs"]] == ["a.json", "b.json"]


def test_load_and_merge_reads_files(tmp_path):
    paths = []
    for name, document in two_runners():
        path = tmp_path / name
        path.write_text(json.dumps(document))
        paths.append(path)
    merged = load_and_merge(paths)
    assert [r["source"] for r in merged["runs"]] == [str(p) for p in paths]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else/1", "run": {}, "claims": []}', "not a pico-hil-results/1 results file"),
    ('{"format": "pico-hil-results/1", "run": {}, "claims": {}}', "claims: missing or not a list"),
    ('{"format": "pico-hil-results/1", "claims": []}', "run: missing or not an object"),
    ('{"format": "pico-hil-results/1", "run": {}, "claims": [3]}', "claims[0]: not an object"),
    ('{"format": "pico-hil-results/1", "run": {}, "claims": [{"run_index": 4}]}', "no run 4 in this file"),
])
def test_an_invalid_file_is_a_config_error_naming_it(tmp_path, content, message):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(lesson_document()))
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ConfigError) as raised:
        load_and_merge([good, bad])
    assert raised.value.path == str(bad)
    assert message in str(raised.value)


def test_a_missing_file_is_named():
    with pytest.raises(ConfigError) as raised:
        load_and_merge(["/nonexistent/results.json"])
    assert str(raised.value) == "/nonexistent/results.json: results file not found"


def test_two_runs_started_in_the_same_second_on_one_host_are_both_kept():
    first = lesson_document(host="runner-a", bench="sim")
    second = lesson_document(host="runner-a", bench="sim")
    first["run"]["run_id"], second["run"]["run_id"] = "1" * 32, "2" * 32
    merged = merge_documents([("a.json", first), ("b.json", second)])
    assert len(merged["runs"]) == 2
    assert len(merged["claims"]) == 2 * len(first["claims"])
