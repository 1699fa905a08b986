"""The HTML report: one self-contained, well-formed page with every claim, its status, metrics and evidence, and
a bar chart per comparative claim; every piece of recorded text is escaped."""
from __future__ import annotations

import math
import re

import pytest

from hil.results.html_report import render_report, write_report
from hil.results.svg_bar_chart import PLOT_WIDTH_PX
from tests.results.page_parser import parse_page
from tests.results.sample_documents import HOSTILE_EVIDENCE, claim, lesson_document, metric


def rendered(document=None):
    text = render_report(document or lesson_document())
    return text, parse_page(text)


def test_page_is_well_formed_and_self_contained():
    text, page = rendered()
    assert page.doctype == "DOCTYPE html"
    assert page.problems == []
    assert page.find_all("script") == []
    for element in page.elements:
        for name in ("src", "href"):
            assert not element.attrs.get(name), f"<{element.tag} {name}=...> points outside the page"
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert len(page.find_all("style")) == 1


def test_every_claim_is_a_row_with_its_text_status_and_reason():
    document = lesson_document()
    _, page = rendered(document)
    rows = page.find_all("tr", "claim")
    assert [row.attrs["data-status"] for row in rows] == [c["status"] for c in document["claims"]]
    for row, source in zip(rows, document["claims"]):
        row_text = page.text_of(row)
        assert source["claim"] in row_text
        assert source["id"] in row_text
        if source["reason"]:
            assert source["reason"] in row_text


def test_statuses_get_their_own_colour_class_and_a_summary_count():
    _, page = rendered()
    badges = {tuple(sorted(b.classes)) for b in page.find_all("span", "status")}
    for status in ("passed", "failed", "error", "skipped", "not-comparable", "interrupted"):
        assert ("status", f"status-{status}") in badges
    summary = page.text_of(page.find_all("ul", "summary")[0])
    assert "2 passed" in summary and "1 failed" in summary and "1 not-comparable" in summary


def test_metrics_show_value_unit_clock_domain_and_board():
    _, page = rendered()
    items = [page.text_of(ul) for ul in page.find_all("ul", "metrics")]
    sort_metrics = items[0]
    assert re.search(r"rust_sort_us = 176,000 µs \[device\]\s*rust-1", sort_metrics)
    assert re.search(r"mpy_sort_us = 18,874,000 µs \[device\]\s*mpy-1", sort_metrics)
    assert "speedup = 107.2 × [none]" in sort_metrics
    assert "rust.state = halted [none]" in items[4]


def test_board_ids_are_listed_with_their_facts():
    _, page = rendered()
    boards = page.find_all("span", "board")
    assert {"rust-1", "mpy-1"} <= {page.text_of(b) for b in boards}
    rust = next(b for b in boards if page.text_of(b) == "rust-1" and "title" in b.attrs)
    assert "E6614C311B4A2F21" in rust.attrs["title"]


def test_evidence_is_collapsible_and_escaped():
    text, page = rendered()
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


def test_each_comparative_claim_gets_a_bar_chart():
    _, page = rendered()
    figures = page.find_all("figure")
    compared = [f.attrs["data-claim"] for f in figures]
    # sort, crc32, tx and jitter compare two runtimes; panic, dual and memory have nothing to compare.
    assert compared == ["scenarios/compute.yaml::bubble-sort", "scenarios/compute.yaml::crc32",
                        "scenarios/serial.yaml::tx", "scenarios/jitter.yaml::gc"]
    charts = page.find_all("svg", "chart")
    assert len(charts) == 4
    bars = page.find_all("rect", "bar")
    assert len(bars) == 8
    assert [b.attrs["data-metric"] for b in bars[:2]] == ["rust_sort_us", "mpy_sort_us"]


def test_bars_are_labelled_with_value_unit_and_clock_domain():
    _, page = rendered()
    values = [page.text_of(t) for t in page.find_all("text", "bar-value")]
    assert values[:2] == ["176,000 µs · device", "18,874,000 µs · device"]
    labels = [page.text_of(t) for t in page.find_all("text", "bar-label")]
    assert labels[:2] == ["Rust · rust-1", "MicroPython · mpy-1"]


def test_a_ratio_beyond_twenty_uses_a_log_scale_and_the_ratio_is_shown():
    text, page = rendered()
    scales = [svg.attrs["data-scale"] for svg in page.find_all("svg", "chart")]
    # sort: 107x -> log; crc32: 33x -> log; tx: 1.26x -> linear; jitter: 73x -> log
    assert scales == ["log", "log", "linear", "log"]
    ratios = [page.text_of(r) for r in page.find_all("span", "ratio")]
    assert ratios[0] == "ratio 107.2×"
    assert ratios[1] == "ratio 33.3×"
    assert ratios[2] == "ratio 1.26×"


def test_log_scale_bars_keep_the_order_of_magnitude_visible():
    _, page = rendered()
    rust, mpy = (float(b.attrs["width"]) for b in page.find_all("rect", "bar")[:2])
    # 176,000 and 18,874,000 on a log axis spanning the powers of ten around them (1e5 to 1e8).
    assert rust == pytest.approx(PLOT_WIDTH_PX * (math.log10(176000) - 5) / 3, abs=0.1)
    assert mpy == pytest.approx(PLOT_WIDTH_PX * (math.log10(18874000) - 5) / 3, abs=0.1)
    linear_rust, linear_mpy = (float(b.attrs["width"]) for b in page.find_all("rect", "bar")[4:6])
    assert abs(linear_mpy / linear_rust - 870000 / 1100000) < 0.01


def test_figures_from_different_clocks_are_charted_but_called_not_comparable():
    _, page = rendered()
    jitter = page.find_all("figure")[3]
    notes = page.find_all("p", "not-comparable")
    assert len(notes) == 1
    assert "rp2040js-virtual, wasm-host" in page.text_of(notes[0])
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
    assert "No claims recorded." in page.text_of(page.find_all("table", "claims")[0])
    odd = {"format": "pico-hil-results/1", "run": {}, "claims": [
        {"id": "x", "status": "weird", "metrics": [{"name": "n", "value": None}], "evidence": {"k": {"a": 1}}}]}
    text, page = rendered(odd)
    assert page.problems == []
    assert page.find_all("tr", "claim")[0].attrs["data-status"] == "unknown"
    assert "weird" in text


def test_write_report_writes_the_rendered_page(tmp_path):
    document = lesson_document()
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
    assert "No claim recorded figures to compare." in page.text_of(page.find_all("section")[-1])
