"""Merging results files from several runs (several CI runners, or several runs on one bench) into one document.

The merged document keeps every run: `runs` is the list of the runs' metadata (each with `source`, the file it
came from), and every claim names its run by index (`run_index`), so the same claim measured on two hosts stays
two rows, each labelled with its host and bench. Claims are ordered by claim id, then by run, which puts the
same claim from different runners side by side. A merged document can be merged again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from hil.errors import ConfigError
from hil.results.results_file import RESULTS_FORMAT, load_results


def _runs_and_claims(path: str, document: dict) -> tuple[list[dict], list[dict]]:
    """The runs and claims of one document (single-run or merged), checked enough to render safely."""
    if "runs" in document:
        runs = document["runs"]
        if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
            raise ConfigError(path, None, "runs", "must be a list of run objects")
    else:
        run = document.get("run")
        if not isinstance(run, dict):
            raise ConfigError(path, None, "run", "missing or not an object")
        runs = [run]
    claims = document.get("claims")
    if not isinstance(claims, list):
        raise ConfigError(path, None, "claims", "missing or not a list")
    for position, claim in enumerate(claims):
        if not isinstance(claim, dict):
            raise ConfigError(path, None, f"claims[{position}]", "not an object")
        if not isinstance(claim.get("metrics", []), list):
            raise ConfigError(path, None, f"claims[{position}].metrics", "not a list")
        index = claim.get("run_index", 0)
        if not isinstance(index, int) or not 0 <= index < len(runs):
            raise ConfigError(path, None, f"claims[{position}].run_index", f"no run {index!r} in this file")
    return runs, claims


def _run_identity(run: dict) -> tuple:
    # Every run has a random id; host, bench and start time identify runs recorded before it existed.
    if run.get("run_id"):
        return (run["run_id"],)
    return (run.get("host"), run.get("bench"), run.get("started_at"))


def merge_documents(sources: Iterable[tuple[str | Path, dict]]) -> dict:
    """One document from (path, document) pairs. The same run given twice (same run id) is
    kept once, so merging a file with a merge that already holds it does not double its claims."""
    runs: list[dict] = []
    claims: list[dict] = []
    seen: dict[tuple, int] = {}
    for path, document in sources:
        path = str(path)
        doc_runs, doc_claims = _runs_and_claims(path, document)
        new_index: dict[int, int | None] = {}
        for local_index, run in enumerate(doc_runs):
            identity = _run_identity(run)
            if identity in seen:
                new_index[local_index] = None
                continue
            seen[identity] = len(runs)
            new_index[local_index] = len(runs)
            runs.append({**run, "source": run.get("source") or path})
        for claim in doc_claims:
            index = new_index[claim.get("run_index", 0)]
            if index is not None:
                claims.append({**claim, "run_index": index})
    order = {id(claim): position for position, claim in enumerate(claims)}
    claims.sort(key=lambda claim: (str(claim.get("id") or claim.get("name") or ""), claim["run_index"],
                                   order[id(claim)]))
    return {"format": RESULTS_FORMAT, "runs": runs, "claims": claims}


def load_and_merge(paths: Sequence[str | Path]) -> dict:
    """Read and merge results files; ConfigError (naming the file) for the first one that is not valid."""
    if not paths:
        raise ConfigError("<command line>", None, None, "no results file given")
    return merge_documents((path, load_results(path)) for path in paths)
