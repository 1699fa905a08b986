"""The HTML report: one self-contained, well-formed page whose top is the lesson scorecard (a verdict and the figure
that decided it per claim), then a card per claim with its checks and charts, then the run details; every piece of
recorded text is escaped."""
from __future__ import annotations

import math
import re

import pytest

from hil.results.html_report import render_report, write_report
from hil.results.svg_bar_chart import PLOT_WIDTH_PX
from tests.results.page_parser import parse_page
from tests.results.sample_documents import HOSTILE_EVIDENCE, claim, lesson_document, lesson_run, metric


def rendered(document=None):
    text = render_report(document or lesson_run())
    return text, parse_page(text)


def card(page, scenario):
    return next(a for a in page.find_all("article", "claim-card") if a.attrs["data-claim"] == scenario)


def score_row(page, scenario):
    return next(r for r in page.find_all("tr", "score") if r.attrs["data-claim"] == scenario)


def test_page_is_well_formed_and_self_contained():
    text, page = rendered()
    assert page.doctype == "DOCTYPE html"
    assert page.problems == []
    assert page.find_all("script") == []
    for element in page.elements:
        assert not element.attrs.get("src"), f"<{element.tag} src=...> points outside the page"
        href = element.attrs.get("href")
        assert not href or href.startswith("#"), f"<{element.tag} href={href}> points outside the page"
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert len(page.find_all("style")) == 1


def test_the_scorecard_comes_first_with_one_row_per_claim_and_its_verdict():
    document = lesson_run()
    _, page = rendered(document)
    first_table = page.find_all("table")[0]
    assert "scorecard" in first_table.classes
    assert "header" in first_table.parents
    rows = page.find_all("tr", "score")
    # a row per claim, keyed by its scenario's name (the same claim in another run or checkout shares it)
    assert [r.attrs["data-claim"] for r in rows] == [c["scenario"] for c in document["claims"]]
    verdicts = [cell.attrs["data-verdict"] for cell in page.elements if "data-verdict" in cell.attrs]
    assert verdicts == ["holds", "holds", "holds", "holds", "not comparable on this bench", "error"]
    # Each row reads as the lesson's own sentence, with the scenario's name under it.
    assert "about 107 times faster at bubble sort" in page.text_of(rows[0])
    assert "compute-throughput" in page.text_of(rows[0])


def test_a_row_says_the_figure_that_decided_it_beside_the_lessons_and_the_clock():
    _, page = rendered()
    row = page.text_of(score_row(page, "compute-throughput"))
    # 17,300,000 µs / 176,000 µs = 98.3
    assert "bubble sort, MicroPython time ÷ Rust time: 98.3× (needs ≥ 20×; lesson: 107×)" in row
    assert "[rp2040js-virtual clock]" in row
    deploy = page.text_of(score_row(page, "deploy-time"))
    assert "MicroPython edit to running code: 0.9 s (needs < rust_deploy_s (21.4 s))" in deploy
    assert "[host clock]" in deploy
    assert "rust halted, mpy ready" in page.text_of(score_row(page, "panic-vs-exception"))


def test_a_claim_not_judged_says_why_and_a_contradiction_is_marked():
    _, page = rendered()
    dual = page.text_of(score_row(page, "dual-core-micropython"))
    assert "this MicroPython port has no _thread" in dual
    assert "the Pico contradicts the lesson" in dual
    broken = page.text_of(score_row(page, "micropython-stdin-throughput"))
    assert "PortVanished" in broken
    assert "the Pico contradicts" not in page.text_of(score_row(page, "gc-jitter"))


def test_a_false_claim_fails_and_the_row_shows_the_bound_it_missed():
    # The Rust sort made 30x slower: 17,300,000 / 5,280,000 = 3.3, below the bound of 20.
    _, page = rendered(lesson_run(sort_ratio_rust_us=176000 * 30))
    row = score_row(page, "compute-throughput")
    assert [c.attrs["data-verdict"] for c in page.elements if "data-verdict" in c.attrs][0] == "fails"
    assert "bubble sort, MicroPython time ÷ Rust time: 3.28× (needs ≥ 20×; lesson: 107×)" in page.text_of(row)
    checks = page.text_of(card(page, "compute-throughput"))
    assert "failed" in checks


def test_the_header_names_the_bench_as_simulated_and_its_clocks():
    _, page = rendered()
    line = page.text_of(page.find_all("p", "bench-line")[0])
    assert "simulated bench" in line and "rp2040js-virtual" in line
    chips = page.find_all("span", "bench-simulated")
    # the header, the scorecard column, every claim card, and the run details
    assert len(chips) >= 2 + 6 + 1
    assert page.find_all("span", "bench-hardware") == []
    hardware = parse_page(render_report(lesson_run(simulated=False)))
    assert "Picos E66138528361BD2A, E6614C311B4A2F21" in hardware.text_of(hardware.find_all("p", "bench-line")[0])
    assert hardware.find_all("span", "bench-simulated") == []


def test_summary_counts_claims_by_verdict():
    _, page = rendered()
    summary = page.text_of(page.find_all("ul", "summary")[0])
    assert "4 hold" in summary and "1 not comparable on this bench" in summary and "1 error" in summary
    _, legacy = rendered(lesson_document())
    summary = legacy.text_of(legacy.find_all("ul", "summary")[0])
    # passed, failed, error, not-comparable, skipped, interrupted -> holds, fails, error, not comparable, error
    assert "2 hold" in summary and "1 fails" in summary and "2 not comparable" in summary and "2 error" in summary


def test_each_card_has_the_lesson_the_claim_and_its_checks():
    _, page = rendered()
    compute = page.text_of(card(page, "compute-throughput"))
    assert "Lesson: Rust is much faster than MicroPython: about 107 times faster at bubble sort." in compute
    assert "Claim tested: Rust is much faster than MicroPython at the same computation." in compute
    rows = [page.text_of(r) for r in page.find_all("tr")]
    assert any(re.search(r"bubble sort, MicroPython time ÷ Rust time\s*98.3×\s*≥ 20×\s*107×\s*passed", r)
               for r in rows)
    contradiction = page.text_of(card(page, "dual-core-micropython"))
    assert "Where the Pico contradicts the lesson: MicroPython's rp2 port has no GIL" in contradiction


def test_charts_sit_in_their_claims_card_with_the_bound_and_the_lesson_drawn():
    text, page = rendered()
    figures = page.find_all("figure")
    assert all("article" in f.parents for f in figures)
    claims = [f.attrs["data-claim"].split("::")[-1] for f in figures]
    # compute: sort and crc32 pairs; deploy: one pair; gc-jitter: one chart per runtime (min / mean / max)
    assert claims == ["compute-throughput", "compute-throughput", "deploy-time", "gc-jitter", "gc-jitter"]
    bounds = page.find_all("line", "threshold-bound")
    published = page.find_all("line", "threshold-published")
    assert float(bounds[0].attrs["data-value"]) == 176000 * 20
    assert float(published[0].attrs["data-value"]) == 176000 * 107
    labels = [page.text_of(t) for t in page.find_all("text", "threshold-label")]
    assert labels[:3] == ["needs ≥ 20× Rust", "lesson: 107× Rust", "needs ≥ 10× Rust"]


def test_within_runtime_comparisons_are_charted():
    _, page = rendered()
    jitter = page.find_all("svg", "chart")[3:5]
    assert [a.attrs["aria-label"] for a in jitter] == [
        "Rust slowest ÷ fastest iteration (µs, linear scale)",
        "MicroPython slowest ÷ mean iteration (µs, linear scale)"]
    bars = [b.attrs["data-metric"] for b in page.find_all("rect", "bar")]
    assert bars[-6:] == ["rust_loop_min_us", "rust_loop_mean_us", "rust_loop_max_us",
                         "mpy_loop_min_us", "mpy_loop_mean_us", "mpy_loop_max_us"]
    labels = [page.text_of(t) for t in page.find_all("text", "threshold-label")]
    assert "needs ≤ 1.5× loop min" in labels and "needs ≥ 3× loop mean" in labels
    hardware = parse_page(render_report(lesson_run(simulated=False)))
    speedup = [a.attrs["aria-label"] for a in hardware.find_all("svg", "chart")]
    assert "MicroPython speed-up with a _thread on core 1 (µs, linear scale)" in speedup


def test_provisioning_times_are_run_details_not_charts():
    _, page = rendered()
    assert all("provision" not in b.attrs["data-metric"] for b in page.find_all("rect", "bar"))
    details = page.find_all("table", "provisioning")
    assert len(details) == 1 and "section" in details[0].parents
    assert "rust_provision_s" in page.text_of(details[0]) and "3.2 s" in page.text_of(details[0])
    assert "rust_provision_s" not in page.text_of(card(page, "compute-throughput"))


def test_metrics_show_value_unit_clock_domain_and_board():
    _, page = rendered(lesson_document())
    items = [page.text_of(ul) for ul in page.find_all("ul", "metrics")]
    sort_metrics = items[0]
    assert re.search(r"rust_sort_us = 176,000 µs \[device\]\s*rust-1", sort_metrics)
    assert re.search(r"mpy_sort_us = 18,874,000 µs \[device\]\s*mpy-1", sort_metrics)
    assert "speedup = 107.2× [none]" in sort_metrics


def test_board_ids_are_listed_with_their_facts():
    _, page = rendered(lesson_document())
    boards = page.find_all("span", "board")
    assert {"rust-1", "mpy-1"} <= {page.text_of(b) for b in boards}
    rust = next(b for b in boards if page.text_of(b) == "rust-1" and "title" in b.attrs)
    assert "E6614C311B4A2F21" in rust.attrs["title"]


def test_evidence_is_collapsible_and_escaped():
    text, page = rendered(lesson_document())
    evidence = page.find_all("details", "evidence")
    assert evidence and all(page.find_all("summary"))
    pres = [page.text_of(p) for p in page.find_all("pre")]
    hostile = [p for p in pres if "alert('x')" in p]
    assert len(hostile) == 1
    # The markup in the evidence came through as text, not as elements.
    assert page.find_all("script") == [] and page.find_all("img") == []
    assert "<script>" not in text and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    # Control bytes and an undecodable byte are shown as escapes, never emitted raw.
    assert "\\x00" in hostile[0] and "\\x1b[31mred" in hostile[0] and "\\x07" in hostile[0]
    assert "\\udc80" in hostile[0]
    assert "\x00" not in text and "\x1b" not in text
    assert HOSTILE_EVIDENCE.endswith(" end") and hostile[0].endswith(" end")


def test_paired_figures_are_charted_rust_first_with_value_unit_and_clock():
    _, page = rendered(lesson_document())
    compared = [f.attrs["data-claim"] for f in page.find_all("figure")]
    # sort, crc32, tx and jitter compare two runtimes; panic, dual and memory have nothing to compare.
    assert compared == ["scenarios/compute.yaml::bubble-sort", "scenarios/compute.yaml::crc32",
                        "scenarios/serial.yaml::tx", "scenarios/jitter.yaml::gc"]
    bars = page.find_all("rect", "bar")
    assert len(bars) == 8
    assert [b.attrs["data-metric"] for b in bars[:2]] == ["rust_sort_us", "mpy_sort_us"]
    values = [page.text_of(t) for t in page.find_all("text", "bar-value")]
    assert values[:2] == ["176,000 µs · device", "18,874,000 µs · device"]
    labels = [page.text_of(t) for t in page.find_all("text", "bar-label")]
    assert labels[:2] == ["Rust · rust-1", "MicroPython · mpy-1"]


def test_a_ratio_beyond_twenty_uses_a_log_scale_and_the_ratio_is_shown():
    _, page = rendered(lesson_document())
    scales = [svg.attrs["data-scale"] for svg in page.find_all("svg", "chart")]
    # sort: 107x -> log; crc32: 33x -> log; tx: 1.26x -> linear; jitter: 73x -> log
    assert scales == ["log", "log", "linear", "log"]
    ratios = [page.text_of(r) for r in page.find_all("span", "ratio")]
    assert ratios[:3] == ["ratio 107.2×", "ratio 33.3×", "ratio 1.26×"]


def test_log_scale_bars_keep_the_order_of_magnitude_visible():
    _, page = rendered(lesson_document())
    rust, mpy = (float(b.attrs["width"]) for b in page.find_all("rect", "bar")[:2])
    # 176,000 and 18,874,000 on a log axis spanning the powers of ten around them (1e5 to 1e8).
    assert rust == pytest.approx(PLOT_WIDTH_PX * (math.log10(176000) - 5) / 3, abs=0.1)
    assert mpy == pytest.approx(PLOT_WIDTH_PX * (math.log10(18874000) - 5) / 3, abs=0.1)
    linear_rust, linear_mpy = (float(b.attrs["width"]) for b in page.find_all("rect", "bar")[4:6])
    assert abs(linear_mpy / linear_rust - 870000 / 1100000) < 0.01


def test_figures_from_different_clocks_are_charted_but_called_not_comparable():
    _, page = rendered(lesson_document())
    jitter = page.find_all("figure")[3]
    notes = page.find_all("p", "not-comparable")
    assert len(notes) == 1
    assert "host, rp2040js-virtual" in page.text_of(notes[0])
    assert "ratio" not in page.text_of(jitter).replace("Not comparable", "")


def test_metrics_of_the_same_name_on_different_boards_are_compared():
    boards = {"pico-a": {"runtime": "rust"}, "pico-b": {"runtime": "rust"}}
    document = {"format": "pico-hil-results/1", "run": {"host": "h", "bench": "b"}, "claims": [
        claim("s.yaml::boards", "passed", "Two Picos agree.",
              [metric("crc32_us", 9000, "us", "device", "pico-a"), metric("crc32_us", 9100, "us", "device", "pico-b"),
               metric("note", "ok", "", "none")], boards=boards)]}
    _, page = rendered(document)
    assert [page.text_of(t) for t in page.find_all("text", "bar-label")] == ["Rust · pico-a", "Rust · pico-b"]
    assert page.find_all("svg", "chart")[0].attrs["data-scale"] == "linear"


def test_an_interrupted_run_is_announced():
    _, page = rendered(lesson_document(interrupted=True))
    assert "interrupted" in page.text_of(page.find_all("p", "banner")[0])
    _, clean = rendered(lesson_document(interrupted=False))
    assert clean.find_all("p", "banner") == []


def test_an_empty_or_partial_document_still_renders():
    _, page = rendered({"format": "pico-hil-results/1", "run": {"host": "h"}, "claims": []})
    assert page.problems == []
    assert "No claims recorded." in page.text_of(page.find_all("table", "scorecard")[0])
    odd = {"format": "pico-hil-results/1", "run": {}, "claims": [
        {"id": "x", "status": "weird", "metrics": [{"name": "n", "value": None}], "evidence": {"k": {"a": 1}},
         "assertions": [{"label": "odd", "value": None}, "not a record"]}]}
    text, page = rendered(odd)
    assert page.problems == []
    assert [c.attrs["data-verdict"] for c in page.elements if "data-verdict" in c.attrs] == ["error"]
    assert "weird" in text


def test_write_report_writes_the_rendered_page(tmp_path):
    document = lesson_run()
    path = tmp_path / "out" / "report.html"
    write_report(document, path)
    assert path.read_text(encoding="utf-8") == render_report(document)
    assert path.stat().st_mode & 0o044 == 0o044   # readable by others: a report is published


def test_figures_in_different_units_or_without_numbers_are_not_charted():
    document = {"format": "pico-hil-results/1", "run": {"host": "h", "bench": "b"}, "claims": [
        claim("s.yaml::units", "passed", "Units differ.",
              [metric("rust_deploy_time", 4.8, "s", "host"), metric("mpy_deploy_time", 900, "ms", "host"),
               metric("rust_state", "halted", "", "none"), metric("mpy_state", "running", "", "none")])]}
    _, page = rendered(document)
    assert page.find_all("svg") == []


def test_stdout_against_stdin_on_one_board_is_charted_with_both_bars():
    from tests.results.sample_documents import assertion
    record = claim("scenarios/stdin_throughput.yaml::micropython-stdin-throughput", "passed", "stdin is slower",
                   [metric("mpy_tx_bps", 870000, "bytes/s", "host", "mpy-1"),
                    metric("mpy_rx_bps", 190000, "bytes/s", "host", "mpy-1")],
                   boards={"mpy-1": {"runtime": "micropython"}})
    record["assertions"] = [assertion("MicroPython stdout faster than stdin", ["mpy_tx_bps"], "greater_than",
                                      "mpy_rx_bps", 870000, "bytes/s")]
    document = {"format": "pico-hil-results/1", "run": {"host": "h", "bench": "lab.yaml"}, "claims": [record]}
    _, page = rendered(document)
    (chart,) = page.find_all("svg", "chart")
    assert chart.attrs["aria-label"].startswith("MicroPython stdout faster than stdin")
    assert [b.attrs["data-metric"] for b in page.find_all("rect", "bar")] == ["mpy_rx_bps", "mpy_tx_bps"]
    row = page.text_of(page.find_all("tr", "score")[0])
    assert "MicroPython stdout faster than stdin: 870,000 bytes/s (needs > mpy_rx_bps (190,000 bytes/s))" in row
