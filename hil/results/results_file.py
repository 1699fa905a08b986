"""The results JSON: run metadata and every claim with status, metrics and evidence.

Rewritten atomically (temp file + rename) after every finished test, so a run that dies keeps what finished and
the file on disk is always complete JSON. One run at a time writes a given file: a second run naming the same path
is refused before it starts (an advisory lock beside the file, let go when the run ends or dies), instead of the
two replacing each other's claims.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from hil.errors import ResultsNotWritable
from hil.user_file import read_user_file

RESULTS_FORMAT = "pico-hil-results/1"
# Far above any run's results (evidence is capped per claim); a bigger "results file" is something else.
MAX_RESULTS_BYTES = 64_000_000


class ResultsFile:
    def __init__(self, path: str | Path, metadata: dict):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.document = {
            "format": RESULTS_FORMAT,
            "run": {"run_id": uuid.uuid4().hex, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "host": socket.gethostname(),
                    "finished_at": None, "interrupted": False, **metadata},
            "claims": [],
        }
        self.check_writable()
        self._writer_lock = self._take_writer_lock()
        self.flush()

    def _take_writer_lock(self):
        """Hold `.<name>.lock` beside the file for as long as this run writes it; ResultsNotWritable naming the
        holder when another run already does."""
        lock_path = self.path.parent / f".{self.path.name}.lock"
        try:
            lock_file = open(lock_path, "a+", encoding="utf-8")
        except OSError as error:
            raise ResultsNotWritable(self.path, error.strerror or str(error)) from None
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read(200).strip() or "another process"
            lock_file.close()
            raise ResultsNotWritable(self.path, f"another run is writing it ({holder}); give this run its own "
                                                f"--hil-results path, or wait for that run to end") from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"pid {os.getpid()} on {socket.gethostname()}, started {self.document['run']['started_at']}")
        lock_file.flush()
        return lock_file

    def close(self) -> None:
        """Let another run write this path (the file itself stays)."""
        with self._lock:
            if self._writer_lock is not None:
                self._writer_lock.close()
                self._writer_lock = None

    def check_writable(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ResultsNotWritable(self.path, error.strerror or str(error)) from None
        if not os.access(self.path.parent, os.W_OK):
            raise ResultsNotWritable(self.path, "folder is not writable")

    def add_claim(self, claim: dict) -> None:
        """Record one finished test (replacing an earlier record with the same id, e.g. setup then call)."""
        with self._lock:
            claims = self.document["claims"]
            for index, existing in enumerate(claims):
                if existing.get("id") == claim.get("id"):
                    claims[index] = _merge_claim(existing, claim)
                    break
            else:
                claims.append(claim)
            self._write()

    def update_run(self, **fields) -> None:
        with self._lock:
            self.document["run"].update(fields)
            self._write()

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.document, out, indent=1, default=str)
            os.replace(tmp, self.path)
        except OSError as error:
            raise ResultsNotWritable(self.path, error.strerror or str(error)) from None


_STATUS_RANK = {"passed": 0, "skipped": 1, "not-comparable": 1, "failed": 2, "error": 3, "interrupted": 4}


def _merge_claim(old: dict, new: dict) -> dict:
    merged = dict(old)
    for key, value in new.items():
        if key == "metrics":
            merged["metrics"] = old.get("metrics", []) + [m for m in value if m not in old.get("metrics", [])]
        elif key == "evidence":
            merged["evidence"] = {**old.get("evidence", {}), **value}
        elif key == "status":
            if _STATUS_RANK.get(value, 0) >= _STATUS_RANK.get(old.get("status"), 0):
                merged["status"] = value
                if "reason" in new:
                    merged["reason"] = new["reason"]
        elif key != "reason":
            merged[key] = value
    return merged


class _NotFinite(ValueError):
    pass


def _not_finite(text: str):
    raise _NotFinite(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):   # 1e999: this framework never writes one
        raise _NotFinite(text)
    return value


def load_results(path: str | Path) -> dict:
    """Read a results file written by this framework; ResultsNotWritable is not the right error here."""
    from hil.errors import ConfigError
    data = read_user_file(path, MAX_RESULTS_BYTES, "results file")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_not_finite, parse_float=_finite_float)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(path, line, None, f"not valid UTF-8 (byte 0x{data[error.start]:02x})") from None
    except _NotFinite as error:
        raise ConfigError(path, None, None, f"not a results file: {error} is not a finite number") from None
    except RecursionError:
        raise ConfigError(path, None, None, "not a results file: nested too deep") from None
    except json.JSONDecodeError as error:
        raise ConfigError(path, error.lineno, None, f"not valid JSON: {error.msg}") from None
    if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
        raise ConfigError(path, 1, "format", f"not a {RESULTS_FORMAT} results file")
    return document
