"""A claim's verdict: `holds`, `fails`, `not comparable on this bench` or `error`, from its pytest outcome and
its assertion records, with the one figure that decided it.

pytest outcome -> verdict: passed -> holds; failed (an assertion, or a step not doing what the claim says) ->
fails; skipped (different clocks, or the bench cannot show the behaviour) -> not comparable on this bench, with the
skip reason; error (setup or teardown failed, the bench broke mid-step, the run was interrupted) -> error.
"""
from __future__ import annotations

import re

from hil.results.text_format import format_number, unit_label

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


def bound_text(record: dict) -> str:
    """'≥ 20 ×', 'between 50 and 200 ×', '< rust_deploy_s'."""
    comparator = record.get("comparator")
    bound = record.get("bound")
    unit = unit_label(record.get("unit") or "")
    suffix = f" {unit}" if unit and not isinstance(bound, str) else ""
    if comparator == "between" and isinstance(bound, list) and len(bound) == 2:
        return f"between {format_number(bound[0])} and {format_number(bound[1])}{suffix}"
    sign = COMPARATOR_SIGNS.get(str(comparator), str(comparator))
    shown = bound if isinstance(bound, str) else format_number(bound)
    return f"{sign} {shown}{suffix}"


def figure_text(record: dict) -> str:
    """'bubble sort: 98.2 × (needs ≥ 20 ×; lesson: 107 ×)'."""
    value = record.get("value")
    unit = unit_label(record.get("unit") or "")
    shown = format_number(round(value, 1 if abs(value) >= 10 else 2)) if isinstance(value, float) else \
        format_number(value)
    text = f"{record.get('label') or ''}: {shown}{' ' + unit if unit else ''}".lstrip(": ")
    parts = [f"needs {bound_text(record)}"]
    if record.get("published") is not None:
        parts.append(f"lesson: {format_number(record['published'])}{' ' + unit if unit else ''}")
    return f"{text} ({'; '.join(parts)})"


def deciding_text(claim: dict) -> str:
    """The one line the scorecard shows beside the verdict."""
    verdict = verdict_of(claim)
    record = deciding_assertion(claim)
    if verdict in (HOLDS, FAILS) and record is not None:
        return figure_text(record)
    if verdict == FAILS:
        return str(claim.get("reason") or "a step did not do what the claim says")
    return verdict_reason(claim) or ""
