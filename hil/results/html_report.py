"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) that answers, on its
first screen, which of the lesson's claims hold on this bench and by how much.

- The scorecard: one line per claim with its verdict (holds, fails, not comparable on this bench, error) and the
  one figure that decided it beside the lesson's own figure, the bench (simulated, or which Picos) and the clock.
  A report merged from several benches has one column per bench, so hardware and simulation sit side by side.
- Per claim, a card: the lesson's sentence, the claim tested, where the Pico contradicts the lesson, each check
  (measured, needed, lesson), and its charts beside it with the bound drawn (one column per bench when merged).
- Run details: the runs, the tool versions, and the provisioning times, which are not evidence for any claim.

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
from hil.results.comparison import Comparison, claim_charts, is_number, is_story_metric
from hil.results.svg_bar_chart import render_bar_chart
from hil.results.text_format import escape, format_figure, format_number
from hil.results.verdict import (ERROR, FAILS, HOLDS, NOT_COMPARABLE, VERDICTS, bound_text, deciding_assertion,
                                 deciding_text, verdict_of, verdict_reason)

EVIDENCE_LIMIT_CHARS = 20000   # per evidence item; results files already cap what tests attach
PAGE_TITLE = "Lesson scorecard"
PUBLISHED_FILE_MODE = 0o644
# A scorecard line stays a line or two: longer reasons are cut here and given whole in the claim's card.
SCORECARD_TEXT_CHARS = 150
NO_CLAIMS = '<p class="muted">No claims recorded.</p>'
VERDICT_CLASSES = {HOLDS: "holds", FAILS: "fails", NOT_COMPARABLE: "not-comparable", ERROR: "error"}
VERDICT_PLURALS = {HOLDS: "hold", FAILS: "fail", NOT_COMPARABLE: "not comparable on this bench", ERROR: "error"}

CSS = """
:root { color-scheme: light; --ink: #1a202c; --muted: #5a6473; --line: #d8dde6; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 21px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
h4 { font-size: 13px; margin: 8px 0 2px; }
a { color: #2b6cb0; }
.muted { color: var(--muted); }
.at-a-glance { display: flex; gap: 6px 18px; flex-wrap: wrap; align-items: baseline; margin: 2px 0 8px; }
.bench-line { margin: 0; }
.summary { display: flex; gap: 8px; flex-wrap: wrap; margin: 0; padding: 0; list-style: none; }
.banner { background: #fff4e5; border: 1px solid #f0b45c; padding: 6px 12px; margin: 8px 0; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; }
table.scorecard td { font-size: 13px; line-height: 1.3; padding: 3px 8px; }
table.scorecard td.lesson-cell { width: 40%; }
table.scorecard .scenario-name { font-size: 11px; margin-left: 4px; }
table.scorecard.merged { table-layout: fixed; }
table.scorecard.merged th:first-child { width: 30%; }
.scenario-name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; color: var(--muted); }
.verdict { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px;
           color: #fff; white-space: nowrap; }
.verdict-holds { background: #2f855a; } .verdict-fails { background: #c53030; }
.verdict-not-comparable { background: #b7791f; } .verdict-error { background: #742a2a; }
.bench { display: inline-block; font-size: 12px; border-radius: 3px; padding: 0 5px; border: 1px solid var(--line);
         background: var(--soft); white-space: nowrap; }
.bench-simulated { background: #ebf4ff; border-color: #90cdf4; color: #2a4365; }
.bench-hardware { background: #f0fff4; border-color: #9ae6b4; color: #22543d; }
.clock { color: var(--muted); font-size: 12px; white-space: nowrap; }
.contradicts { color: #97266d; font-weight: 600; }
.claim-card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 12px 0; }
.card-head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.card-body { display: grid; gap: 16px; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.card-body.merged { grid-template-columns: repeat(var(--benches), minmax(0, 1fr)); }
.bench-column { min-width: 0; }
.lesson-line { margin: 4px 0; }
.lesson-line q { font-style: italic; }
table.checks td, table.checks th { font-size: 12px; padding: 3px 6px; }
.check-passed { color: #2f855a; font-weight: 600; } .check-failed { color: #c53030; font-weight: 600; }
.check-not-comparable { color: #975a16; font-weight: 600; }
ul.metrics { margin: 4px 0; padding-left: 18px; font-size: 12px; }
.metric-name { font-family: ui-monospace, Menlo, Consolas, monospace; }
.board { display: inline-block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
         background: var(--soft); border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; margin: 1px; }
details { margin: 4px 0; }
summary { cursor: pointer; color: #2b6cb0; }
pre { background: #1a202c; color: #e2e8f0; padding: 8px 10px; border-radius: 4px; overflow-x: auto;
      max-height: 360px; font-size: 12px; white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
.chart { display: block; max-width: 100%; height: auto; margin: 4px 0; }
.chart .bar-label, .chart .bar-value { font-size: 12px; fill: #1a202c; }
.chart .tick, .chart .axis-label { font-size: 11px; fill: #5a6473; }
.chart .threshold-label { font-size: 11px; font-weight: 600; }
.chart .grid { stroke: #e2e8f0; stroke-width: 1; }
.chart .axis { stroke: #5a6473; stroke-width: 1; }
.ratio { font-weight: 600; }
.not-comparable { color: #975a16; font-weight: 600; }
p.caption { margin: 0 0 6px; font-size: 12px; }
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


def _run_index(claim: dict, runs: list[dict]) -> int:
    index = claim.get("run_index", 0)
    return index if isinstance(index, int) and 0 <= index < len(runs) else 0


def _verdict(claim: dict) -> str:
    recorded = claim.get("verdict")
    return recorded if recorded in VERDICTS else verdict_of(claim)


def _claim_key(claim: dict) -> str:
    # A scenario's name is the claim across runs (its file may sit elsewhere in another checkout); else the test id.
    return str(claim.get("scenario") or claim.get("id") or claim.get("name") or "")


def _grouped(claims: list[dict], runs: list[dict]) -> list[tuple[str, dict[int, dict]]]:
    """Claims by id, in first-seen order, each with its record per run."""
    groups: dict[str, dict[int, dict]] = {}
    for claim in claims:
        index = _run_index(claim, runs)
        key = _claim_key(claim)
        if index in groups.get(key, {}):   # two claims of one run share a name: keep both, apart
            key = str(claim.get("id") or key)
        groups.setdefault(key, {})[index] = claim
    return list(groups.items())


# -- benches --------------------------------------------------------------------------------------------------

def is_simulated(run: dict, claims: list[dict] = ()) -> bool:
    """The bench says so in the facts recorded with the run (`simulated: true`); the report never guesses."""
    facts = run.get("bench_facts") if isinstance(run.get("bench_facts"), dict) else {}
    return facts.get("simulated") is True


def _pico_serials(run: dict, claims: list[dict]) -> list[str]:
    facts = run.get("bench_facts") if isinstance(run.get("bench_facts"), dict) else {}
    boards = [b for b in facts.get("boards") or [] if isinstance(b, dict)]
    if not boards:
        boards = [b for claim in claims for b in (claim.get("boards") or {}).values() if isinstance(b, dict)]
    return sorted({str(b["serial_number"]) for b in boards if b.get("serial_number")})


def bench_label(run: dict, claims: list[dict] = ()) -> str:
    """'simulated bench' or 'Picos E661…, E661…' (or the bench file when it names no board)."""
    if is_simulated(run, claims):
        facts = run.get("bench_facts") if isinstance(run.get("bench_facts"), dict) else {}
        name = str(facts.get("name") or "")
        return "simulated bench" + (f" ({name})" if name and name != run.get("bench") else "")
    serials = _pico_serials(run, claims)
    if serials:
        return ("Pico " if len(serials) == 1 else "Picos ") + ", ".join(serials)
    return f"bench {run.get('bench') or 'unknown'}"


def _bench_chip(run: dict, claims: list[dict], with_host: bool = False) -> str:
    kind = "simulated" if is_simulated(run, claims) else "hardware"
    host = f"{run.get('host') or '?'} · " if with_host else ""
    return f'<span class="bench bench-{kind}">{escape(host + bench_label(run, claims))}</span>'


def _clocks(claim: dict, names=None) -> list[str]:
    return sorted({str(m.get("clock_domain") or "none") for m in claim.get("metrics") or []
                   if isinstance(m, dict) and is_story_metric(m) and is_number(m.get("value"))
                   and (names is None or m.get("name") in names)} - {"none"})


def _deciding_clocks(claim: dict) -> list[str]:
    record = deciding_assertion(claim)
    names = set(record.get("subject") or []) if record else None
    if record and isinstance(record.get("bound"), str):
        names.add(record["bound"])
    return _clocks(claim, names)


# -- page parts -----------------------------------------------------------------------------------------------

def _verdict_badge(verdict: str) -> str:
    return f'<span class="verdict verdict-{VERDICT_CLASSES.get(verdict, "error")}">{escape(verdict)}</span>'


def _summary(claims: list[dict]) -> str:
    counts = Counter(_verdict(claim) for claim in claims)
    items = [f'<li>{_verdict_badge(verdict)} <span class="count">{counts[verdict]} '
             f"{escape(VERDICT_PLURALS[verdict] if counts[verdict] != 1 else verdict)}</span></li>"
             for verdict in VERDICTS if counts[verdict]]
    return f'<ul class="summary" aria-label="claims by verdict">{"".join(items)}</ul>'


def _lesson_label(claims: list[dict]) -> str:
    claim = next(iter(claims))
    lesson = claim.get("lesson")
    name = claim.get("scenario") or claim.get("name") or claim.get("id")
    text = lesson or claim.get("claim") or name
    return f'{escape(text)}<span class="scenario-name">{escape(name)}</span>'


def _score_cell(claim: dict | None, merged: bool) -> str:
    """Single bench: the verdict and the figure in two columns. Merged: one column per bench, the figure flowing
    after the verdict, so several benches still fit the first screen."""
    if claim is None:
        return f'<td class="muted"{"" if merged else " colspan=2"}>not run on this bench</td>'
    verdict = _verdict(claim)
    clocks = _deciding_clocks(claim) if verdict in (HOLDS, FAILS) else []
    clock = f' <span class="clock">[{escape(", ".join(clocks))} clock]</span>' if clocks else ""
    contradicts = (' <span class="contradicts" title="' + escape(claim.get("contradicts_lesson")) +
                   '">the Pico contradicts the lesson</span>') if claim.get("contradicts_lesson") else ""
    text = deciding_text(claim)
    shown = text if len(text) <= SCORECARD_TEXT_CHARS else text[:SCORECARD_TEXT_CHARS - 1].rstrip() + "…"
    figure = f"{escape(shown)}{clock}{contradicts}"
    if merged:
        return (f'<td class="decided" data-verdict="{escape(verdict)}" title="{escape(text)}">'
                f"{_verdict_badge(verdict)} {figure}</td>")
    return (f'<td data-verdict="{escape(verdict)}">{_verdict_badge(verdict)}</td>'
            f'<td class="decided" title="{escape(text)}">{figure}</td>')


def _scorecard(groups, runs: list[dict], claims_by_run: dict[int, list[dict]]) -> str:
    used = sorted({index for _, per_run in groups for index in per_run}) or [0]
    merged = len(used) > 1   # several runs: one column per bench, naming the host that ran it
    span = "" if merged else ' colspan="2"'
    head = "<th>Lesson claim</th>" + "".join(
        f"<th{span}>{_bench_chip(runs[i], claims_by_run.get(i, []), merged)}</th>" for i in used)
    rows = []
    for position, (key, per_run) in enumerate(groups):
        cells = "".join(_score_cell(per_run.get(i), merged) for i in used)
        rows.append(f'<tr class="score" data-claim="{escape(key)}"><td class="lesson-cell">'
                    f'<a href="#claim-{position}">{_lesson_label(per_run.values())}</a></td>{cells}</tr>')
    if not rows:
        rows = [f'<tr><td colspan="{1 + (len(used) if merged else 2)}" class="muted">No claims recorded.</td></tr>']
    return (f'<table class="scorecard{" merged" if merged else ""}" aria-label="lesson scorecard"><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _checks_table(claim: dict) -> str:
    records = [a for a in claim.get("assertions") or [] if isinstance(a, dict)]
    if not records:
        return ""
    rows = []
    for record in records:
        value = record.get("value")
        if isinstance(value, float):
            value = round(value, 2 if abs(value) < 10 else 1)
        measured = "—" if value is None else format_figure(value, record.get("unit") or "")
        published = record.get("published")
        lesson = format_figure(published, record.get("unit") or "") if published is not None else ""
        status = str(record.get("status") or "")
        rows.append(f"<tr><td>{escape(record.get('label'))}</td><td>{escape(measured)}</td>"
                    f"<td>{escape(bound_text(record, claim))}</td><td>{escape(lesson)}</td>"
                    f'<td class="check-{escape(status)}" title="{escape(record.get("detail"))}">'
                    f"{escape(status)}</td></tr>")
    return ('<table class="checks"><thead><tr><th>Check</th><th>Measured</th><th>Needs</th><th>Lesson</th>'
            f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _pretty(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str, ensure_ascii=False)


def _metrics_list(claim: dict) -> str:
    items = []
    for metric in claim.get("metrics") or []:
        if not isinstance(metric, dict) or not is_story_metric(metric):
            continue
        board = f' <span class="board">{escape(metric["board"])}</span>' if metric.get("board") else ""
        items.append(
            f'<li><span class="metric-name">{escape(metric.get("name"))}</span> = '
            f'{escape(format_figure(metric.get("value"), metric.get("unit") or ""))} '
            f'<span class="clock">[{escape(metric.get("clock_domain") or "none")}]</span>{board}</li>')
    if not items:
        return ""
    return (f'<details class="metrics-details"><summary>every figure ({len(items)})</summary>'
            f'<ul class="metrics">{"".join(items)}</ul></details>')


def _boards_line(claim: dict) -> str:
    boards = claim.get("boards") or {}
    if not isinstance(boards, dict) or not boards:
        return ""
    chips = "".join(f'<span class="board" title="{escape(_pretty(facts))}">{escape(board_id)}</span>'
                    for board_id, facts in boards.items())
    return f'<div class="muted">boards {chips}</div>'


def _evidence(claim: dict) -> str:
    evidence = claim.get("evidence") or {}
    if not isinstance(evidence, dict):
        return ""
    blocks = []
    for kind, text in evidence.items():
        text = text if isinstance(text, str) else _pretty(text)
        if len(text) > EVIDENCE_LIMIT_CHARS:
            text = "…" + text[-EVIDENCE_LIMIT_CHARS:]
        blocks.append(f'<details class="evidence"><summary>evidence: {escape(kind)} ({len(text):,} chars)'
                      f"</summary><pre>{escape(text)}</pre></details>")
    return "".join(blocks)


def _caption(comparison: Comparison, bench: str) -> str:
    where = f' <span class="muted">· {escape(bench)}</span>'
    if not comparison.comparable:
        return (f'<p class="caption not-comparable">Not comparable on this bench: measured by different clocks '
                f'({escape(", ".join(comparison.clock_domains))}).{where}</p>')
    ratio = comparison.ratio
    if len(comparison.bars) < 2 or ratio is None:
        return f'<p class="caption muted">clock: {escape(", ".join(comparison.clock_domains))}{where}</p>'
    largest = max(comparison.bars, key=lambda bar: bar.value)
    smallest = min(comparison.bars, key=lambda bar: bar.value)
    shown = format_number(round(ratio, 2 if ratio < 10 else 1))
    return (f'<p class="caption"><span class="ratio">ratio {escape(shown)}×'
            f'</span> <span class="muted">({escape(largest.label)} {escape(format_figure(largest.value, largest.unit))}'
            f' ÷ {escape(smallest.label)} {escape(format_figure(smallest.value, smallest.unit))}; '
            f'clock: {escape(comparison.clock_domains[0])})</span>{where}</p>')


def _charts(claim: dict, bench: str) -> str:
    parts = []
    for comparison in claim_charts(claim):
        heading = comparison.title or comparison.quantity
        parts.append(f'<figure class="figure" data-claim="{escape(claim.get("id") or "")}">'
                     f'<h4>{escape(heading)}</h4>{render_bar_chart(comparison)}{_caption(comparison, bench)}</figure>')
    return "".join(parts)


def _bench_result(claim: dict, run: dict, run_claims: list[dict], merged: bool) -> tuple[str, str]:
    """(the verdict, checks and evidence; the charts) of one claim on one bench."""
    verdict = _verdict(claim)
    reason = verdict_reason(claim)
    if verdict == FAILS and deciding_assertion(claim) is None and claim.get("reason"):
        reason = claim.get("reason")
    reason_line = f'<div class="reason">{escape(reason)}</div>' if reason else ""
    head = (f'<div class="bench-result">{_verdict_badge(verdict)} on {_bench_chip(run, run_claims, merged)}'
            f"{reason_line}</div>")
    text = head + _checks_table(claim) + _boards_line(claim) + _metrics_list(claim) + _evidence(claim)
    return text, _charts(claim, bench_label(run, run_claims))


def _claim_card(position: int, key: str, per_run: dict[int, dict], runs: list[dict],
                claims_by_run: dict[int, list[dict]]) -> str:
    first = next(iter(per_run.values()))
    name = first.get("scenario") or first.get("name") or key
    lesson = first.get("lesson")
    lines = []
    if lesson:
        lines.append(f'<p class="lesson-line"><b>Lesson:</b> <q>{escape(lesson)}</q></p>')
    lines.append(f'<p class="lesson-line"><b>Claim tested:</b> {escape(first.get("claim") or name)}</p>')
    if first.get("contradicts_lesson"):
        lines.append(f'<p class="lesson-line contradicts">Where the Pico contradicts the lesson: '
                     f'{escape(first["contradicts_lesson"])}</p>')
    badges = " ".join(_verdict_badge(_verdict(claim)) for claim in per_run.values())
    head = (f'<div class="card-head"><h3>{escape(name)}</h3>{badges}'
            f'<span class="scenario-name">{escape(first.get("id") or key)}</span></div>{"".join(lines)}')
    merged = len(per_run) > 1 or len(runs) > 1
    if not merged:
        index, claim = next(iter(per_run.items()))
        text, charts = _bench_result(claim, runs[index], claims_by_run.get(index, []), False)
        body = (f'<div class="card-body"><div class="bench-column">{text}</div>'
                f'<div class="bench-column charts">{charts}</div></div>')
    else:
        columns = []
        for index in range(len(runs)):
            claim = per_run.get(index)
            if claim is None:
                chip = _bench_chip(runs[index], claims_by_run.get(index, []), True)
                columns.append(f'<div class="bench-column">{chip}'
                               f' <span class="muted">not run on this bench</span></div>')
                continue
            text, charts = _bench_result(claim, runs[index], claims_by_run.get(index, []), True)
            columns.append(f'<div class="bench-column" data-run="{index}">{text}{charts}</div>')
        body = f'<div class="card-body merged" style="--benches: {len(columns)}">{"".join(columns)}</div>'
    return f'<article class="claim-card" id="claim-{position}" data-claim="{escape(key)}">{head}{body}</article>'


def _runs_table(runs: list[dict], claims_by_run: dict[int, list[dict]]) -> str:
    rows = []
    for index, run in enumerate(runs):
        state = "interrupted" if run.get("interrupted") else ("finished" if run.get("finished_at") else "unfinished")
        extra = {key: value for key, value in run.items()
                 if key not in ("host", "bench", "started_at", "finished_at", "interrupted", "source")}
        details = (f"<details><summary>details</summary><pre>{escape(_pretty(extra))}</pre></details>"
                   if extra else "")
        rows.append(
            f"<tr><td>{escape(run.get('host') or '?')}</td><td>{_bench_chip(run, claims_by_run.get(index, []))} "
            f"<span class=\"muted\">{escape(run.get('bench') or '?')}</span></td>"
            f"<td>{escape(run.get('started_at') or '')}</td><td>{escape(run.get('finished_at') or '')}</td>"
            f"<td>{escape(state)}</td><td>{len(claims_by_run.get(index, []))}</td>"
            f"<td class=\"scenario-name\">{escape(run.get('source') or '')}</td><td>{details}</td></tr>")
    head = ("<tr><th>Host</th><th>Bench</th><th>Started</th><th>Finished</th><th>State</th><th>Claims</th>"
            "<th>Results file</th><th></th></tr>")
    return f'<table class="runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _provisioning_table(claims: list[dict], runs: list[dict]) -> str:
    rows = []
    for claim in claims:
        for metric in claim.get("metrics") or []:
            if isinstance(metric, dict) and not is_story_metric(metric):
                where = escape(bench_label(runs[_run_index(claim, runs)], [claim])) if len(runs) > 1 else ""
                rows.append(f"<tr><td>{escape(claim.get('scenario') or claim.get('id'))}</td>"
                            f'<td class="metric-name">{escape(metric.get("name"))}</td>'
                            f"<td>{escape(format_figure(metric.get('value'), metric.get('unit') or ''))} "
                            f'<span class="clock">[{escape(metric.get("clock_domain") or "none")}]</span></td>'
                            f"<td>{escape(metric.get('board') or '')}</td><td>{where}</td></tr>")
    if not rows:
        return ""
    return ('<h3>Provisioning times</h3><p class="muted">Time to bring each board to the scenario\'s build '
            "(skipped when it already runs it): part of running the suite, not of any claim.</p>"
            '<table class="provisioning"><thead><tr><th>Scenario</th><th>Figure</th><th>Value</th><th>Board</th>'
            f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_report(document: dict) -> str:
    runs = runs_of(document)
    claims = claims_of(document)
    claims_by_run: dict[int, list[dict]] = {}
    for claim in claims:
        claims_by_run.setdefault(_run_index(claim, runs), []).append(claim)
    groups = _grouped(claims, runs)
    interrupted = [run for run in runs if run.get("interrupted")]
    banner = ""
    if interrupted:
        banner = (f'<p class="banner">{len(interrupted)} of {len(runs)} run(s) were interrupted: '
                  "the results are partial (the claim that was being judged is marked error).</p>")
    benches = " ".join(_bench_chip(run, claims_by_run.get(i, []), len(runs) > 1) for i, run in enumerate(runs))
    clocks = sorted({clock for claim in claims for clock in _clocks(claim)})
    started = ", ".join(str(run.get("started_at")) for run in runs if run.get("started_at"))
    bench_line = (f'<p class="bench-line">On {benches}'
                  + (f' <span class="clock">· clocks: {escape(", ".join(clocks))}</span>' if clocks else "")
                  + (f' <span class="muted">· run {escape(started)}</span>' if started else "") + "</p>")
    cards = "".join(_claim_card(position, key, per_run, runs, claims_by_run)
                    for position, (key, per_run) in enumerate(groups))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(PAGE_TITLE)}</title><style>{CSS}</style></head><body>"
        f'<header id="scorecard"><h1>{escape(PAGE_TITLE)}: Rust vs MicroPython on the Pico</h1>'
        f'<div class="at-a-glance">{_summary(claims)}{bench_line}</div>'
        f"{banner}{_scorecard(groups, runs, claims_by_run)}</header>"
        f'<section id="claims"><h2>Each claim, with the figures that decide it</h2>'
        f'{cards or NO_CLAIMS}</section>'
        f'<section id="run-details"><h2>Run details</h2>{_runs_table(runs, claims_by_run)}'
        f"{_provisioning_table(claims, runs)}</section>"
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
