"""The labgrid bench against a real lab on this machine: labgrid-coordinator, two labgrid-exporters ("hosts"
host-a and host-b) each exporting one simulated MicroPython board's serial port through ser2net, and pytest
runs of a small project against them, as a user would run them."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hil.deadline import Deadline
from tests.labgrid.lab import Lab, missing_tools, start_lab

RUN_TIMEOUT_S = 300.0
PLACES = ("pico-a", "pico-b")
MARKER = re.compile(rb"run([A-Z])\1\1")   # what a run prints on each board: runAAA, runBBB, ...

pytestmark = pytest.mark.slow   # real labgrid processes, simulated boards, pytest runs in subprocesses

if missing_tools():
    pytest.skip(f"labgrid or ser2net not installed ({', '.join(missing_tools())}): "
                "pip install 'pico-hil[labgrid]' and apt-get install ser2net", allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("lab"), {"host-a": ["pico-a"], "host-b": ["pico-b"]})
    yield lab
    lab.stop()


def write_project(root: Path, lab: Lab, letter: str, scenario_count: int = 3, wait_s: float = 240) -> Path:
    """A project whose scenarios each use both boards and print the run's marker (runAAA for letter A) on
    them; each board gets the run's script with mpremote (copied once, then skipped as unchanged). Returns its
    bench file."""
    (root / "scenarios").mkdir(parents=True)
    (root / "scripts_micropython" / "marker").mkdir(parents=True)
    (root / "scripts_micropython" / "marker" / "marker.py").write_text(f"MARK = 'run' + {letter!r} * 3\n")
    deploy = ", deploy: [scripts_micropython/marker]"
    for index in range(scenario_count):
        (root / "scenarios" / f"marker_{index}.yaml").write_text(textwrap.dedent(f"""\
            scenario: marker-{letter.lower()}-{index}
            claim: Each board answers this run and no other at the REPL.
            boards:
              first: {{runtime: micropython{deploy}}}
              second: {{runtime: micropython{deploy}}}
            steps:
              - {{on: first, exec: "print('run' + {letter!r} * 3)", expect: '^run{letter * 3}$'}}
              - {{on: second, exec: "print('run' + {letter!r} * 3)", expect: '^run{letter * 3}$'}}
            """))
    bench = root / "lab.yaml"
    bench.write_text(textwrap.dedent(f"""\
        kind: labgrid
        bench: lab-{letter.lower()}
        coordinator: {lab.coordinator}
        wait_s: {wait_s}
        clock_domains: {{micropython: wasm-host}}
        boards:
          - {{id: mpy-a, runtime: micropython, place: pico-a}}
          - {{id: mpy-b, runtime: micropython, tags: {{runtime: micropython}}}}
        """))
    return bench


def start_run(root: Path, bench: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LG_USERNAME", None)
    env.pop("HIL_LABGRID_RUN", None)
    return subprocess.Popen([sys.executable, "-m", "pytest", "-m", "hil", "-p", "no:cacheprovider",
                             f"--hil-bench={bench}", f"--hil-results={root}/results/results.json", *extra],
                            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=open(root / "pytest.out", "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def finish(run: subprocess.Popen, root: Path, timeout_s: float = RUN_TIMEOUT_S) -> str:
    try:
        run.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
    return (root / "pytest.out").read_text(errors="replace")


def hil(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def place_states(cwd: Path, bench: Path) -> dict[str, str]:
    """`hil boards` as a user sees it: place -> its STATE column."""
    listed = hil("boards", "--bench", str(bench), cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    states = {}
    for line in listed.stdout.splitlines():
        found = re.search(r"\(place (\S+?)[;)]", line)
        if found:
            states[found.group(1)] = line.split("rfc2217://")[1].split(None, 3)[3]
    return states


def markers(trace: Path, since: int) -> list[str]:
    """The run letters in the order the board printed them, from the ser2net trace past byte `since`."""
    return [m.group(1).decode() for m in MARKER.finditer(trace.read_bytes()[since:])]


def test_boards_and_doctor_see_the_coordinator_and_who_holds_a_place(lab, tmp_path):
    bench = write_project(tmp_path, lab, "Z", scenario_count=0)
    states = place_states(tmp_path, bench)
    assert sorted(states) == list(PLACES) and all(s.startswith("free") for s in states.values()), states
    lab.client("-p", "pico-b", "acquire", env={**os.environ, "LG_USERNAME": "someone-else"})
    try:
        states = place_states(tmp_path, bench)
        assert states["pico-b"].startswith("acquired") and "by " in states["pico-b"] and \
            "/someone-else" in states["pico-b"], states
        assert states["pico-a"].startswith("free"), states
    finally:
        lab.client("-p", "pico-b", "release", "-k")
    doctor = hil("doctor", "--bench", str(bench), cwd=tmp_path)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert re.search(rf"labgrid coordinator\s+found\s+{re.escape(lab.coordinator)} reachable, 2 places",
                     doctor.stdout), doctor.stdout
    assert re.search(r"labgrid-client\s+found\s+\d+\.\d+", doctor.stdout), doctor.stdout


def test_two_concurrent_runs_share_two_places_one_run_at_a_time_and_their_results_merge(lab, tmp_path, lock_dir):
    roots = {letter: tmp_path / f"run-{letter}" for letter in "AB"}
    benches = {letter: write_project(root, lab, letter) for letter, root in roots.items()}
    trace_start = {place: lab.traces[place].stat().st_size if lab.traces[place].exists() else 0
                   for place in PLACES}
    runs = {"A": start_run(roots["A"], benches["A"], "-n", "2"), "B": start_run(roots["B"], benches["B"])}
    outputs = {letter: finish(run, roots[letter]) for letter, run in runs.items()}
    for letter, run in runs.items():
        assert run.returncode == 0, outputs[letter]
        claims = json.loads((roots[letter] / "results" / "results.json").read_text())["claims"]
        assert sorted(c["status"] for c in claims) == ["passed"] * 3, claims
    # Each board printed one run's markers, then the other's: never interleaved.
    for place in PLACES:
        seen = markers(lab.traces[place], trace_start[place])
        assert sorted(seen) == ["A"] * 3 + ["B"] * 3, (place, seen)
        assert seen in (["A"] * 3 + ["B"] * 3, ["B"] * 3 + ["A"] * 3), (place, seen)
    assert all(state.startswith("free") for state in place_states(tmp_path, benches["A"]).values())

    merged = hil("report", str(roots["A"] / "results" / "results.json"), str(roots["B"] / "results" / "results.json"),
                 "-o", str(tmp_path / "merged" / "report.html"), "--merged-results",
                 str(tmp_path / "merged" / "results.json"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    results = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert sorted(run["bench"] for run in results["runs"]) == sorted(str(b) for b in benches.values())
    assert sorted(c["scenario"] for c in results["claims"]) == sorted(
        f"marker-{letter.lower()}-{index}" for letter in "ab" for index in range(3)), results["claims"]


def test_a_killed_run_leaves_its_places_held_and_the_next_run_proceeds_after_release(lab, tmp_path, lock_dir):
    roots = {letter: tmp_path / f"run-{letter}" for letter in "CD"}
    benches = {letter: write_project(root, lab, letter, scenario_count=1) for letter, root in roots.items()}
    killed = start_run(roots["C"], benches["C"])
    deadline = Deadline(120)
    while not (roots["C"] / "pytest.out").read_text(errors="replace").count("acquired pico-a"):
        assert killed.poll() is None and not deadline.expired, finish(killed, roots["C"], 1)
        time.sleep(0.2)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=10)
    holder = re.search(r"as (\S+)", (roots["C"] / "pytest.out").read_text()).group(1)

    states = place_states(tmp_path, benches["C"])
    assert states["pico-a"].startswith(f"acquired (place pico-a; by {holder}"), states
    assert states["pico-b"].startswith(f"acquired (place pico-b; by {holder}"), states

    waiting = start_run(roots["D"], benches["D"])
    deadline = Deadline(60)
    while "free it with: labgrid-client" not in (roots["D"] / "pytest.out").read_text(errors="replace"):
        assert waiting.poll() is None and not deadline.expired, finish(waiting, roots["D"], 1)
        time.sleep(0.2)
    said = (roots["D"] / "pytest.out").read_text()
    assert f"place pico-a (for board mpy-a) is acquired by {holder}" in said, said
    assert not (roots["D"] / "results" / "results.json").exists() or \
        not json.loads((roots["D"] / "results" / "results.json").read_text())["claims"]
    commands = dict.fromkeys(part for line in re.findall(r"free it with: (.*)", said) for part in line.split(" && "))
    assert len(commands) == 4, commands   # per place: release it, cancel the dead run's reservation of it
    for command in commands:   # exactly what the message tells the user to type
        argv = command.split()
        assert argv[:3] == ["labgrid-client", "-x", lab.coordinator], command
        lab.client(*argv[3:])
    output = finish(waiting, roots["D"])
    assert waiting.returncode == 0, output
    claims = json.loads((roots["D"] / "results" / "results.json").read_text())["claims"]
    assert [c["status"] for c in claims] == ["passed"], claims
    assert all(state.startswith("free") for state in place_states(tmp_path, benches["D"]).values())


def test_sigterm_ends_a_run_and_releases_its_places(lab, tmp_path, lock_dir):
    bench = write_project(tmp_path, lab, "E", scenario_count=1)
    run = start_run(tmp_path, bench)
    deadline = Deadline(120)
    while "acquired pico-a" not in (tmp_path / "pytest.out").read_text(errors="replace"):
        assert run.poll() is None and not deadline.expired, finish(run, tmp_path, 1)
        time.sleep(0.1)
    os.kill(run.pid, signal.SIGTERM)
    output = finish(run, tmp_path, 60)
    assert run.returncode not in (0, -signal.SIGTERM), output   # interrupted, not killed by the signal
    states = place_states(tmp_path, bench)
    assert sorted(states) == list(PLACES) and all(s.startswith("free") for s in states.values()), (states, output)
