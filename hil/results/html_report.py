"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with the runs, a
table of claims (status, reason, metrics with unit and clock domain, boards, evidence) and a chart per
comparative claim (Rust vs MicroPython, or board vs board).

Accepts a results document of one run (`run`: a dict) or a merged one (`runs`: a list; each claim names its run
by index in `run_index`). Every piece of text is escaped: evidence holds arbitrary bytes from serial ports.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from hil.errors import ResultsNotWritable
from hil.results.comparison import comparisons_of
from hil.results.svg_bar_chart import render_bar_chart
from hil.results.text_format import escape, format_figure, format_number

STATUSES = ("passed", "failed", "error", "interrupted", "not-comparable", "skipped")
EVIDENCE_LIMIT_CHARS = 20000   # per evidence item; results files already cap what tests attach
PAGE_TITLE = "Pico HIL results"
PUBLISHED_FILE_MODE = 0o644

CSS = """
:root { color-scheme: light; --ink: #1a202c; --muted: #5a6473; --line: #d8dde6; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.muted { color: var(--muted); }
.summary { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0 0; padding: 0; list-style: none; }
.banner { background: #fff4e5; border: 1px solid #f0b45c; padding: 8px 12px; margin: 12px 0; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.claim-text { min-width: 260px; max-width: 420px; }
td.reason { min-width: 180px; max-width: 320px; }
.claim-name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; color: var(--muted);
              word-break: break-all; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px;
          white-space: nowrap; color: #fff; }
.status-passed { background: #2f855a; } .status-failed { background: #c53030; }
.status-error { background: #9b2c2c; } .status-interrupted { background: #6b46c1; }
.status-not-comparable { background: #b7791f; } .status-skipped { background: #718096; }
.status-unknown { background: #4a5568; }
ul.metrics { margin: 0; padding: 0; list-style: none; font-size: 13px; }
ul.metrics li { white-space: nowrap; }
.metric-name { font-family: ui-monospace, Menlo, Consolas, monospace; }
.clock { color: var(--muted); font-size: 12px; }
.board { display: inline-block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
         background: var(--soft); border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; margin: 1px;
         white-space: nowrap; }
details { margin: 4px 0; }
tr.claim:has(+ tr.evidence-row) td { border-bottom: none; }
tr.evidence-row td { padding-top: 0; }
summary { cursor: pointer; color: #2b6cb0; }
pre { background: #1a202c; color: #e2e8f0; padding: 8px 10px; border-radius: 4px; overflow-x: auto;
      max-height: 360px; font-size: 12px; white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 12px 0; }
.figure .claim-line { margin: 0 0 8px; }
.chart { display: block; max-width: 100%; height: auto; margin: 6px 0; }
.chart .bar-label, .chart .bar-value { font-size: 12px; fill: #1a202c; }
.chart .tick, .chart .axis-label { font-size: 11px; fill: #5a6473; }
.chart .grid { stroke: #e2e8f0; stroke-width: 1; }
.chart .axis { stroke: #5a6473; stroke-width: 1; }
.ratio { font-weight: 600; }
.not-comparable { color: #975a16; font-weight: 600; }
"""


# -- document shape -------------------------------------------------------------------------------------------

def runs_of(document: dict) -> list[dict]:
    runs = document.get("runs")
    if isinstance(runs, list):
        return [run if isinstance(run, dict) else {} for run in runs]
    run = document.get("run")
    return [run] if isinstance(run, dict) else [{}]


def claims_of(document: dict) -> list[dict]:
    return [claim for claim in document.get("claims") or [] if isinstance(claim, dict)]


def _run_of(claim: dict, runs: list[dict]) -> dict:
    index = claim.get("run_index", 0)
    return runs[index] if isinstance(index, int) and 0 <= index < len(runs) else {}


def _run_label(run: dict) -> str:
    return f"{run.get('host') or 'unknown host'} · {run.get('bench') or 'unknown bench'}"


def _status(claim: dict) -> str:
    status = claim.get("status")
    return status if status in STATUSES else "unknown"


# -- page parts -----------------------------------------------------------------------------------------------

def _status_badge(status: str, text: str | None = None) -> str:
    return f'<span class="status status-{escape(status)}">{escape(text or status)}</span>'


def _summary(claims: list[dict]) -> str:
    counts = Counter(_status(claim) for claim in claims)
    items = [f"<li>{_status_badge(status, f'{counts[status]} {status}')}</li>"
             for status in (*STATUSES, "unknown") if counts[status]]
    return f'<ul class="summary" aria-label="claims by status">{"".join(items)}</ul>'


def _pretty(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str, ensure_ascii=False)


def _runs_table(runs: list[dict], claims: list[dict]) -> str:
    per_run = Counter(claim.get("run_index", 0) for claim in claims)
    rows = []
    for index, run in enumerate(runs):
        state = _status_badge("interrupted") if run.get("interrupted") else (
            "finished" if run.get("finished_at") else "unfinished")
        extra = {key: value for key, value in run.items()
                 if key not in ("host", "bench", "started_at", "finished_at", "interrupted", "source")}
        details = (f"<details><summary>details</summary><pre>{escape(_pretty(extra))}</pre></details>"
                   if extra else "")
        rows.append(
            f"<tr><td>{escape(run.get('host') or '?')}</td><td>{escape(run.get('bench') or '?')}</td>"
            f"<td>{escape(run.get('started_at') or '')}</td><td>{escape(run.get('finished_at') or '')}</td>"
            f"<td>{state}</td><td>{per_run[index]}</td><td class=\"claim-name\">{escape(run.get('source') or '')}</td>"
            f"<td>{details}</td></tr>")
    head = ("<tr><th>Host</th><th>Bench</th><th>Started</th><th>Finished</th><th>State</th><th>Claims</th>"
            "<th>Results file</th><th></th></tr>")
    return f'<table class="runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _metrics_cell(claim: dict) -> str:
    items = []
    for metric in claim.get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        board = f' <span class="board">{escape(metric["board"])}</span>' if metric.get("board") else ""
        items.append(
            f'<li><span class="metric-name">{escape(metric.get("name"))}</span> = '
            f'{escape(format_figure(metric.get("value"), metric.get("unit") or ""))} '
            f'<span class="clock">[{escape(metric.get("clock_domain") or "none")}]</span>{board}</li>')
    return f'<ul class="metrics">{"".join(items)}</ul>' if items else '<span class="muted">—</span>'


def _boards_cell(claim: dict) -> str:
    boards = claim.get("boards") or {}
    if not isinstance(boards, dict) or not boards:
        return '<span class="muted">—</span>'
    return "".join(f'<span class="board" title="{escape(_pretty(facts))}">{escape(board_id)}</span>'
                   for board_id, facts in boards.items())


def _evidence_cell(claim: dict) -> str:
    evidence = claim.get("evidence") or {}
    if not isinstance(evidence, dict) or not evidence:
        return ""
    blocks = []
    for kind, text in evidence.items():
        text = text if isinstance(text, str) else _pretty(text)
        if len(text) > EVIDENCE_LIMIT_CHARS:
            text = "…" + text[-EVIDENCE_LIMIT_CHARS:]
        blocks.append(f'<details class="evidence"><summary>evidence: {escape(kind)} ({len(text):,} chars)'
                      f"</summary><pre>{escape(text)}</pre></details>")
    return "".join(blocks)


def _claim_rows(claim: dict, runs: list[dict], show_run: bool, columns: int) -> str:
    """The claim's row, then (if it has evidence) a full-width row with the collapsible evidence."""
    status = _status(claim)
    text = claim.get("claim") or claim.get("name") or claim.get("id")
    claim_id = str(claim.get("id") or "")
    scenario = claim.get("scenario")
    scenario_line = (f'<div class="muted">scenario {escape(scenario)}</div>'
                     if scenario and not claim_id.startswith(str(scenario)) else "")
    duration = claim.get("duration_s")
    duration_text = f"{format_number(round(duration, 3))} s" if isinstance(duration, (int, float)) else ""
    run_cell = f"<td>{escape(_run_label(_run_of(claim, runs)))}</td>" if show_run else ""
    row = (
        f'<tr class="claim" data-status="{escape(status)}">'
        f'<td class="claim-text">{escape(text)}<div class="claim-name">{escape(claim_id)}</div>{scenario_line}</td>'
        f"<td>{_status_badge(status, claim.get('status') if status == 'unknown' else None)}"
        f'<div class="muted">{escape(duration_text)}</div></td>'
        f"<td class=\"reason\">{escape(claim.get('reason') or '')}</td>"
        f"<td>{_metrics_cell(claim)}</td><td>{_boards_cell(claim)}</td>{run_cell}</tr>")
    evidence = _evidence_cell(claim)
    if evidence:
        row += f'<tr class="evidence-row"><td colspan="{columns}">{evidence}</td></tr>'
    return row


def _claims_table(claims: list[dict], runs: list[dict]) -> str:
    show_run = len(runs) > 1
    head = ("<tr><th>Claim</th><th>Status</th><th>Reason</th><th>Metrics</th><th>Boards</th>"
            + ("<th>Host · bench</th>" if show_run else "") + "</tr>")
    columns = 6 if show_run else 5
    rows = "".join(_claim_rows(claim, runs, show_run, columns) for claim in claims)
    if not rows:
        rows = f'<tr><td colspan="{columns}" class="muted">No claims recorded.</td></tr>'
    return f'<table class="claims"><thead>{head}</thead><tbody>{rows}</tbody></table>'


def _comparison_caption(comparison) -> str:
    if not comparison.comparable:
        return (f'<p class="not-comparable">Not comparable on this bench: measured by different clocks '
                f'({escape(", ".join(comparison.clock_domains))}).</p>')
    ratio = comparison.ratio
    if ratio is None:
        return '<p class="muted">No ratio: a figure is zero or negative.</p>'
    largest = max(comparison.bars, key=lambda bar: bar.value)
    smallest = min(comparison.bars, key=lambda bar: bar.value)
    return (f'<p><span class="ratio">ratio {escape(format_number(round(ratio, 2 if ratio < 10 else 1)))}×</span> '
            f'<span class="muted">({escape(largest.label)} {escape(format_figure(largest.value, largest.unit))} ÷ '
            f'{escape(smallest.label)} {escape(format_figure(smallest.value, smallest.unit))}; '
            f'clock: {escape(comparison.clock_domains[0])})</span></p>')


def _charts(claims: list[dict], runs: list[dict]) -> str:
    figures = []
    for claim in claims:
        comparisons = comparisons_of(claim)
        if not comparisons:
            continue
        status = _status(claim)
        where = f' <span class="muted">— {escape(_run_label(_run_of(claim, runs)))}</span>' if len(runs) > 1 else ""
        charts = "".join(f"<h3>{escape(c.quantity)}</h3>{render_bar_chart(c)}{_comparison_caption(c)}"
                         for c in comparisons)
        figures.append(
            f'<figure class="figure" data-claim="{escape(claim.get("id") or "")}">'
            f'<figcaption class="claim-line">{_status_badge(status)} '
            f"{escape(claim.get('claim') or claim.get('name') or claim.get('id'))}{where}</figcaption>"
            f"{charts}</figure>")
    if not figures:
        return '<p class="muted">No claim recorded figures to compare.</p>'
    return "".join(figures)


def render_report(document: dict) -> str:
    runs = runs_of(document)
    claims = claims_of(document)
    interrupted = [run for run in runs if run.get("interrupted")]
    banner = ""
    if interrupted:
        banner = (f'<p class="banner">{len(interrupted)} of {len(runs)} run(s) were interrupted: '
                  "the results are partial (the test that was running is marked interrupted).</p>")
    hosts = sorted({str(run.get("host") or "?") for run in runs})
    subtitle = (f"{len(claims)} claim(s) from {len(runs)} run(s) on {', '.join(hosts)}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(PAGE_TITLE)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(PAGE_TITLE)}</h1><div class=\"muted\">{escape(subtitle)}</div>"
        f"{_summary(claims)}</header>{banner}"
        f'<section id="runs"><h2>Runs</h2>{_runs_table(runs, claims)}</section>'
        f'<section id="claims"><h2>Claims</h2>{_claims_table(claims, runs)}</section>'
        f'<section id="charts"><h2>Comparisons</h2>{_charts(claims, runs)}</section>'
        "</body></html>\n")


def write_report(document: dict, path: Path) -> None:
    """Write the report atomically (a reader never sees half a page)."""
    path = Path(path)
    text = render_report(document)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, PUBLISHED_FILE_MODE)  # mkstemp makes it owner-only; a report is for everyone
        os.replace(tmp, path)
    except OSError as error:
        raise ResultsNotWritable(path, error.strerror or str(error)) from None
