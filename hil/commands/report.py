"""`hil report RESULTS... -o report.html`: one HTML report from one or more results files (e.g. one per CI
runner); `--merged-results out.json` also writes the merged results, and `--junit FILE... --merged-junit out.xml`
merges the runners' JUnit files into one. A file that is not a results (or JUnit) file is a one-line error naming
it, exit code 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from hil.errors import ConfigError, ResultsNotWritable
from hil.results.html_report import write_report
from hil.results.merge import load_and_merge

EXIT_OK = 0
PUBLISHED_FILE_MODE = 0o644
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
DEFAULT_REPORT = "report.html"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="render an HTML report from results files (several are merged)",
        description="Render one self-contained HTML report from one or more results JSON files. Claims from "
                    "different runs stay separate rows, labelled with their host and bench.")
    parser.add_argument("results", nargs="+", metavar="RESULTS", help="results JSON files (from --hil-results)")
    parser.add_argument("-o", "--output", default=DEFAULT_REPORT, metavar="REPORT_HTML",
                        help=f"where to write the report (default: {DEFAULT_REPORT})")
    parser.add_argument("--merged-results", metavar="OUT_JSON", help="also write the merged results JSON here")
    parser.add_argument("--junit", nargs="+", default=[], metavar="JUNIT_XML",
                        help="JUnit files of the same runs (from --junitxml), to merge into --merged-junit")
    parser.add_argument("--merged-junit", metavar="OUT_XML", help="write the merged JUnit file here")
    parser.set_defaults(func=run)


def _write_json(document: dict, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".merged-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1, default=str)
        os.chmod(tmp, PUBLISHED_FILE_MODE)  # mkstemp makes it owner-only; a report is for everyone
        os.replace(tmp, path)
    except OSError as error:
        raise ResultsNotWritable(path, error.strerror or str(error)) from None


def run(args: argparse.Namespace) -> int:
    if bool(args.junit) != bool(args.merged_junit):
        print("hil report: --junit and --merged-junit go together (the files to merge, and where)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.junit:
            from hil.results.junit_file import check_junit_files
            check_junit_files(args.junit)
        document = load_and_merge(args.results)
    except ConfigError as error:
        print(f"hil report: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.junit:
            from hil.results.junit_file import merge_junit_files
            merge_junit_files(args.junit, args.merged_junit)
        if args.merged_results:
            _write_json(document, Path(args.merged_results))
        write_report(document, Path(args.output))
    except ResultsNotWritable as error:
        print(f"hil report: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"hil report: {len(document['claims'])} claim(s) from {len(document['runs'])} run(s) "
          f"written to {os.path.abspath(args.output)}")
    if args.merged_results:
        print(f"hil report: merged results written to {os.path.abspath(args.merged_results)}")
    if args.merged_junit:
        print(f"hil report: merged JUnit ({len(args.junit)} file(s)) written to {os.path.abspath(args.merged_junit)}")
    return EXIT_OK
