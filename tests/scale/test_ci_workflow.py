"""The example CI workflow (examples/ci/hil-self-hosted.yml) is valid and does what the docs say: self-hosted jobs
per board set chosen by runner labels, the project's own test command, JUnit + results + report uploaded as
artifacts even when tests fail, and one merged report from every runner's results."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from hil.bench.bench_file import load_bench_file
from hil.cli import build_parser
from hil.run_settings import SETTINGS

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "ci"
WORKFLOW = EXAMPLE_DIR / "hil-self-hosted.yml"
UPLOAD = "actions/upload-artifact@"
DOWNLOAD = "actions/download-artifact@"
MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.(\w+)\s*}}")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def commands(job: dict) -> list[str]:
    """Every shell command of a job's `run:` steps (a `>` block is folded into one line by YAML itself)."""
    return [line.strip() for step in job["steps"] if "run" in step for line in step["run"].strip().splitlines()]


def test_the_workflow_has_triggers_and_the_three_kinds_of_job(workflow):
    triggers = workflow.get("on", workflow.get(True))     # YAML 1.1 reads a bare `on` key as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    assert set(workflow["jobs"]) == {"simulated", "bench", "report"}


def test_every_step_does_exactly_one_thing_and_every_job_has_a_runner(workflow):
    for name, job in workflow["jobs"].items():
        assert job["runs-on"], name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{name}: {step}"


def test_bench_jobs_run_on_self_hosted_runners_chosen_by_board_set_labels(workflow):
    job = workflow["jobs"]["bench"]
    include = job["strategy"]["matrix"]["include"]
    assert job["runs-on"] == "${{ matrix.labels }}"
    assert job["strategy"]["fail-fast"] is False
    for entry in include:
        assert entry["labels"][0] == "self-hosted" and entry["bench"] in entry["labels"]
    assert len({entry["bench"] for entry in include}) == len(include)
    referenced = {ref for step in job["steps"] for ref in MATRIX_REF.findall(str(step))} | \
                 set(MATRIX_REF.findall(str(job["name"])))
    for entry in include:
        assert referenced <= set(entry), f"matrix entry {entry['bench']} lacks {referenced - set(entry)}"


@pytest.mark.parametrize("job_name", ["simulated", "bench"])
def test_test_jobs_run_the_hil_tests_with_junit_results_and_report_and_always_upload_them(workflow, job_name):
    job = workflow["jobs"][job_name]
    (pytest_command,) = [c for c in commands(job) if re.search(r"(^|/)pytest ", c)]
    argv = shlex.split(pytest_command)
    assert argv[argv.index("-m") + 1] == "hil" and "-n" in argv
    options = {a for a in argv if a.startswith("--")}
    assert {"--junitxml", SETTINGS["bench"].option, SETTINGS["results"].option, SETTINGS["report"].option} <= options
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith(UPLOAD)]
    assert len(uploads) == 1 and uploads[0]["if"] == "always()"
    assert uploads[0]["with"]["path"].startswith("${{ env.REPORTS }}")
    assert "$REPORTS/junit.xml" in pytest_command and "$REPORTS/results.json" in pytest_command


def test_the_report_job_merges_every_runners_results_with_hil_report(workflow):
    job = workflow["jobs"]["report"]
    assert set(job["needs"]) == {"simulated", "bench"} and job["if"] == "always()"
    download = next(s for s in job["steps"] if s.get("uses", "").startswith(DOWNLOAD))
    assert download["with"]["pattern"] == "hil-*"
    (report_command,) = [c for c in commands(job) if c.startswith("hil report")]
    args = build_parser().parse_args(shlex.split(report_command)[1:])   # the real CLI accepts it
    assert args.results == ["runs/*/results.json"] and args.merged_results == "merged/results.json"
    assert args.junit == ["runs/*/junit.xml"] and args.merged_junit == "merged/junit.xml"
    assert any(s.get("uses", "").startswith(UPLOAD) for s in job["steps"])


def test_the_board_check_uses_a_real_hil_boards_option(workflow):
    (boards_command,) = [c for c in commands(workflow["jobs"]["bench"]) if "hil boards" in c]
    argv = shlex.split(boards_command)
    args = build_parser().parse_args(argv[argv.index("boards"):])
    assert args.bench == "benches/${{ matrix.bench }}.yaml"


def test_every_board_set_of_the_matrix_has_a_valid_example_bench_file_of_that_name(workflow):
    for entry in workflow["jobs"]["bench"]["strategy"]["matrix"]["include"]:
        config = load_bench_file(EXAMPLE_DIR / "benches" / f"{entry['bench']}.yaml")   # schema + checks
        assert config.name == entry["bench"] and config.kind == "physical"
        assert len({spec.runtime for spec in config.specs}) == 2, "each set has boards of both runtimes"


FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def test_pull_requests_from_forks_never_reach_the_self_hosted_runners(workflow):
    guard = workflow["jobs"]["bench"]["if"]
    assert "github.event_name != 'pull_request'" in guard and FORK_GUARD in guard


def _step_index(job: dict, predicate) -> int:
    return next(i for i, step in enumerate(job["steps"]) if predicate(step))


def test_bench_jobs_install_the_tools_check_them_with_doctor_and_build_before_the_tests(workflow):
    job = workflow["jobs"]["bench"]
    run_of = lambda word: (lambda step: word in step.get("run", ""))   # noqa: E731
    install = _step_index(job, run_of("apt-get install"))
    doctor = _step_index(job, run_of("hil doctor"))
    build = _step_index(job, run_of("hil build"))
    tests = _step_index(job, run_of("pytest "))
    assert install < doctor < build < tests
    packages = job["steps"][install]["run"]
    for needed in ("picotool", "uhubctl", "gpiod", "thumbv6m-none-eabi", "probe-rs-tools"):
        assert needed in packages, needed
    (doctor_command,) = [c for c in commands(job) if "hil doctor" in c]
    argv = shlex.split(doctor_command)
    args = build_parser().parse_args(argv[argv.index("doctor"):])
    assert args.bench == "benches/${{ matrix.bench }}.yaml"
    (build_command,) = [c for c in commands(job) if "hil build" in c]
    build_parser().parse_args(shlex.split(build_command)[1:])


@pytest.mark.parametrize("job_name", ["simulated", "bench"])
def test_each_test_job_publishes_its_junit_file_in_the_runs_ui_even_when_tests_fail(workflow, job_name):
    job = workflow["jobs"][job_name]
    (publish,) = [s for s in job["steps"] if "junit-report" in s.get("uses", "")]
    assert publish["if"].startswith("always()")
    assert publish["with"]["report_paths"] == "${{ env.REPORTS }}/junit.xml"
    assert workflow["permissions"]["checks"] == "write"
