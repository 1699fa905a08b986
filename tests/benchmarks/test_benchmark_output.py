"""The benchmark runner's printing and goal checks, on tiny inputs (no bench, no timing asserted)."""
from __future__ import annotations

import hashlib
import json
import zlib

import pytest

from benchmarks import lesson_figures
from benchmarks.figure import Figure, format_number
from benchmarks.goal import at_least, at_most
from benchmarks.lesson_tree import LARGE_FILE_BYTES, large_binary, large_python_source, write_tree
from benchmarks.outcome import FAIL, PASS, RECORDED, Outcome
from benchmarks.pty_peer import payload
from benchmarks.run import parse_args


def test_a_goal_of_at_least_passes_on_the_bound_and_fails_below_it():
    goal = at_least("mpremote time / ours", 3.0)
    assert goal.met_by(3.0) and goal.met_by(7.5)
    assert not goal.met_by(2.99)


def test_a_goal_of_at_most_passes_on_the_bound_and_fails_above_it():
    goal = at_most("second / first", 0.05, "")
    assert goal.met_by(0.05) and goal.met_by(0.01)
    assert not goal.met_by(0.051)


def test_a_figure_shows_its_unit_and_clock():
    assert Figure("ours", 1.234, "s").text() == "ours = 1.23 s [host]"
    assert Figure("ratio", 1.0019, "x", "none").text() == "ratio = 1.00 x"     # measured equal, not rounded away
    assert Figure("device", 114069, "us", "rp2040js-virtual").text() == "device = 114,069 us [rp2040js-virtual]"
    assert Figure("files written", 0, "", "none").text() == "files written = 0"


def test_the_verdict_line_ends_with_the_ratio():
    outcome = Outcome("deploy_vs_mpremote", "python tree", [Figure("ours", 1.0, "s"), Figure("mpremote", 7.0, "s")],
                      at_least("mpremote / ours", 3.0), 7.0)
    lines = outcome.lines()
    assert lines[:2] == ["  ours = 1.00 s [host]", "  mpremote = 7.00 s [host]"]
    assert lines[-1] == "deploy_vs_mpremote: python tree: goal mpremote / ours >= 3x  PASS  ratio 7.00x"
    assert outcome.verdict == PASS


def test_a_missed_goal_fails():
    outcome = Outcome("round_trip", "board", [], at_most("ours / raw", 1.2), 1.5)
    assert outcome.verdict == FAIL and outcome.lines()[-1].endswith("FAIL  ratio 1.50x")


def test_a_correctness_problem_fails_even_when_the_ratio_meets_the_goal():
    outcome = Outcome("deploy_vs_mpremote", "python tree", [], at_least("mpremote / ours", 3.0), 9.0,
                      problems=["ours: board hashes differ from the originals for /x.py"])
    assert outcome.verdict == FAIL
    assert "  problem: ours: board hashes differ from the originals for /x.py" in outcome.lines()


def test_figures_without_a_goal_are_recorded_with_their_ratio_last():
    outcome = Outcome("round_trip", "local echo", [], None, 1.63, ratio_name="ours / raw")
    assert outcome.verdict == RECORDED
    assert outcome.lines()[-1] == "round_trip: local echo: ours / raw, no goal  RECORDED  ratio 1.63x"


def test_a_measurement_that_could_not_be_made_fails_instead_of_passing():
    outcome = Outcome("transport_throughput", "PTY", [], at_least("ours / plain", 0.9), None)
    assert outcome.verdict == FAIL and outcome.lines()[-1].endswith("FAIL  ratio n/a")


def test_the_trees_hold_the_lesson_scripts_and_one_100_kb_file(tmp_path):
    python_tree = write_tree(tmp_path, "python")
    binary_tree = write_tree(tmp_path, "binary")
    assert (python_tree / "lib" / "lesson_tables.py").stat().st_size == LARGE_FILE_BYTES
    assert (binary_tree / "lib" / "lesson_blob.bin").stat().st_size == LARGE_FILE_BYTES
    assert (python_tree / "kernels.py").exists() and (binary_tree / "kernels.py").exists()
    compile(large_python_source(), "lesson_tables.py", "exec")   # really Python source
    assert len(zlib.compress(large_binary(), 9)) > LARGE_FILE_BYTES   # really incompressible


def test_the_stream_payload_follows_the_firmware_pattern():
    assert payload(30) == b"ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"


def test_lesson_figures_pair_rust_and_micropython_with_their_clocks(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"format": "pico-hil-results/1", "claims": [{
        "name": "compute-throughput", "status": "passed", "boards": {},
        "metrics": [{"name": "rust_sort_us", "value": 500, "unit": "us", "clock_domain": "device", "board": "r"},
                    {"name": "mpy_sort_us", "value": 50000, "unit": "us", "clock_domain": "device", "board": "m"},
                    {"name": "rust_crc32_us", "value": 10, "unit": "us", "clock_domain": "rp2040js-virtual",
                     "board": "r"},
                    {"name": "mpy_crc32_us", "value": 900, "unit": "us", "clock_domain": "wasm-host",
                     "board": "m"}]}]}))
    sort, crc = lesson_figures.run(None, results)
    assert sort.lines()[-1] == ("lesson_figures: compute-throughput: sort_us: larger / smaller, no goal  RECORDED  "
                                "ratio 100x")
    assert "  Rust · r (rust_sort_us) = 500 us [device]" in sort.lines()
    assert crc.ratio is None
    assert crc.lines()[-1].endswith("not comparable: clocks rp2040js-virtual vs wasm-host, no goal  RECORDED")


def test_an_unreadable_results_file_fails(tmp_path):
    [outcome] = lesson_figures.run(None, tmp_path / "missing.json")
    assert outcome.verdict == FAIL


def test_the_runner_takes_only_known_benchmark_names():
    assert parse_args(["--only", "round_trip", "--only", "deploy_vs_mpremote"]).only == ["round_trip",
                                                                                         "deploy_vs_mpremote"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "no_such_benchmark"])


def test_the_expected_hashes_name_each_file_by_its_board_path(tmp_path):
    from benchmarks.board_files import expected_sha256
    (tmp_path / "lib").mkdir()
    (tmp_path / "main.py").write_bytes(b"print(1)\n")
    (tmp_path / "lib" / "data.bin").write_bytes(b"")
    assert expected_sha256(tmp_path, "/bench") == {
        "/bench/lib/data.bin": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "/bench/main.py": hashlib.sha256(b"print(1)\n").hexdigest(),
    }


def test_the_paired_ratio_is_our_rate_over_the_plain_rate():
    from benchmarks.transport_throughput import paired_ratio
    # ours took 2 s where plain took 1 s (half the rate), then 1 s where plain took 1 s
    assert paired_ratio([2.0, 1.0, 1.0], [1.0, 1.0, 1.0]) == 1.0
    assert paired_ratio([2.0, 2.0, 1.0], [1.0, 1.0, 1.0]) == 0.5


def test_the_pty_stream_benchmark_runs_end_to_end_on_a_tiny_stream(monkeypatch):
    from benchmarks import transport_throughput
    monkeypatch.setattr(transport_throughput, "PTY_STREAM_BYTES", 64 * 1024)
    monkeypatch.setattr(transport_throughput, "PTY_RUNS_PER_REPEAT", 1)
    versus, alone = transport_throughput.run(None, repeats=2)
    assert versus.problems == []        # both readers received exactly the stream
    assert versus.ratio > 0 and versus.lines()[-1].endswith(f"ratio {format_number(versus.ratio)}x")
    assert alone.lines()[-1].endswith(f"ratio {format_number(alone.ratio)} MB/s")


def test_the_echo_round_trip_runs_end_to_end_with_few_repetitions(monkeypatch):
    from benchmarks import round_trip
    monkeypatch.setattr(round_trip, "BLOCKS", 1)
    monkeypatch.setattr(round_trip, "ECHO_REPS_PER_BLOCK", 5)
    [echo] = round_trip.run(None)
    assert echo.verdict == RECORDED
    assert "a line echoed by a local process, alternating blocks of 5 = 10 round trips" in echo.lines()[0]


def test_lesson_figures_keep_a_figure_only_one_runtime_measured(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"format": "pico-hil-results/1", "claims": [{
        "name": "serial-throughput", "status": "passed", "boards": {},
        "metrics": [{"name": "rust_rx_bps", "value": 30000, "unit": "bytes/s", "clock_domain": "host",
                     "board": "r"}]}]}))
    [alone] = lesson_figures.run(None, results)
    assert "  Rust · r (rust_rx_bps) = 30,000 bytes/s [host]" in alone.lines()
    assert alone.verdict == RECORDED
