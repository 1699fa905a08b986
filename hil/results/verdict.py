"""A claim's verdict: `holds`, `fails`, `not comparable on this bench` or `error`, from its pytest outcome and
its assertion records, with the one figure that decided it.

pytest outcome -> verdict: passed -> holds; failed (an assertion, or a step not doing what the claim says) ->
fails; skipped (different clocks, or the bench cannot show the behaviour) -> not comparable on this bench, with the
skip reason; error (setup or teardown failed, the bench broke mid-step, the run was interrupted) -> error.
"""
from __future__ import annotations

import re

from hil.results.text_format import format_figure, format_number

HOLDS = "holds"
FAILS = "fails"
NOT_COMPARABLE = "not comparable on this bench"
ERROR = "error"
VERDICTS = (HOLDS, FAILS, NOT_COMPARABLE, ERROR)

# Errors that say the bench broke (a board went away, a tool is missing), not that the claim is false, even when a
# step reports them.
BENCH_ERRORS = ("PortVanished", "BoardNotFound", "WrongRuntime", "ToolMissing", "ToolFailed", "ToolTimeout",
                "ProvisionError", "BoardBusy", "BoardBroken", "GarbledSerial", "ResultsNotWritable", "ConfigError")
_BENCH_ERROR = re.compile(r"\b(?:%s)\b" % "|".join(BENCH_ERRORS))
COMPARATOR_SIGNS = {"less_than": "<", "greater_than": ">", "at_least": "≥", "at_most": "≤", "equals": "="}


def verdict_of(claim: dict) -> str:
    status = claim.get("status")
    reason = str(claim.get("reason") or "")
    if status == "passed":
        return HOLDS
    if status in ("skipped", "not-comparable"):
        return NOT_COMPARABLE
    if status == "failed":
        if any(a.get("status") == "failed" for a in assertions_of(claim)):
            return FAILS
        return ERROR if _BENCH_ERROR.search(reason) else FAILS
    return ERROR   # error, interrupted, or a status this version does not know


def verdict_reason(claim: dict) -> str | None:
    """Why the claim could not be judged (not comparable, error); None when it was judged."""
    verdict = verdict_of(claim)
    if verdict == NOT_COMPARABLE:
        reason = str(claim.get("reason") or "the bench cannot show this behaviour")
        return reason.removeprefix(NOT_COMPARABLE + ":").strip() or reason
    if verdict == ERROR:
        return str(claim.get("reason") or claim.get("status") or "unknown error")
    return None


def assertions_of(claim: dict) -> list[dict]:
    return [a for a in claim.get("assertions") or [] if isinstance(a, dict)]


def deciding_assertion(claim: dict) -> dict | None:
    """The assertion whose figure the scorecard shows: the first that failed when the claim fails, else the first
    that carries the lesson's published figure, else the first one (scenarios list the headline check first)."""
    records = [a for a in assertions_of(claim) if a.get("value") is not None]
    if not records:
        return None
    failed = [a for a in records if a.get("status") == "failed"]
    if verdict_of(claim) == FAILS and failed:
        return failed[0]
    published = [a for a in records if a.get("published") is not None]
    return (published or records)[0]


def _rounded(value):
    return round(value, 1 if abs(value) >= 10 else 2) if isinstance(value, float) else value


def bound_text(record: dict, claim: dict | None = None) -> str:
    """'≥ 20×', 'between 150,000 and 270,000 bytes', '< rust_deploy_s (21.4 s)'."""
    comparator = record.get("comparator")
    bound = record.get("bound")
    unit = record.get("unit") or ""
    if comparator == "between" and isinstance(bound, list) and len(bound) == 2:
        return f"between {format_number(bound[0])} and {format_figure(bound[1], unit)}"
    sign = COMPARATOR_SIGNS.get(str(comparator), str(comparator))
    if isinstance(bound, str):
        other = _metric(claim, bound)
        shown = f"{bound} ({format_figure(other['value'], other.get('unit') or '')})" if other else bound
        return f"{sign} {shown}"
    return f"{sign} {format_figure(bound, unit)}"


def _metric(claim: dict | None, name: str) -> dict | None:
    for metric in (claim or {}).get("metrics") or []:
        if isinstance(metric, dict) and metric.get("name") == name and metric.get("value") is not None:
            return metric
    return None


def figure_text(record: dict, claim: dict | None = None) -> str:
    """'bubble sort, MicroPython time ÷ Rust time: 98.3× (needs ≥ 20×; lesson: 107×)'."""
    unit = record.get("unit") or ""
    text = f"{record.get('label') or ''}: {format_figure(_rounded(record.get('value')), unit)}".lstrip(": ")
    parts = [f"needs {bound_text(record, claim)}"]
    if record.get("published") is not None:
        parts.append(f"lesson: {format_figure(record['published'], unit)}")
    return f"{text} ({'; '.join(parts)})"


def _states_text(claim: dict) -> str | None:
    """'rust halted, mpy ready' when every check of the claim is a board's state."""
    records = [a for a in assertions_of(claim) if a.get("value") is not None]
    if not records or not all(isinstance(a.get("value"), str) for a in records):
        return None
    return ", ".join(f"{str((a.get('subject') or ['?'])[0]).removesuffix('.state')} {a['value']}" for a in records)


def deciding_text(claim: dict) -> str:
    """The one line the scorecard shows beside the verdict."""
    verdict = verdict_of(claim)
    record = deciding_assertion(claim)
    if verdict in (HOLDS, FAILS) and record is not None:
        return _states_text(claim) or figure_text(record, claim)
    if verdict == FAILS:
        return str(claim.get("reason") or "a step did not do what the claim says")
    unjudged = [a for a in assertions_of(claim) if a.get("status") == "not-comparable" and a.get("detail")]
    if verdict == NOT_COMPARABLE and unjudged:   # the headline check's reason; the others say the same of theirs
        return f"{unjudged[0].get('label') or 'check'}: {unjudged[0]['detail']}"
    return verdict_reason(claim) or ""
