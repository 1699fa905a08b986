"""The labgrid bench file: what it accepts, and errors that name file, line and key (no coordinator needed)."""
from __future__ import annotations

import textwrap

import pytest

from hil.bench.bench_factory import load_bench_config, open_bench
from hil.errors import ConfigError
from hil.labgrid.labgrid_bench import LabgridBench


def write(tmp_path, text: str):
    path = tmp_path / "lab.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_labgrid_bench_file_opens_the_labgrid_bench_with_one_filter_per_board(tmp_path):
    path = write(tmp_path, """\
        kind: labgrid
        coordinator: coord.lab
        boards:
          - {id: mpy-a, runtime: micropython, place: pico-a}
          - {id: rust-any, runtime: rust, tags: {runtime: rust, probe: swd}, flash: picotool}
        """)
    load_bench_config(path)
    bench = open_bench(path)
    assert isinstance(bench, LabgridBench)
    assert bench.client.coordinator == "coord.lab:20408"
    assert [s.extra["filters"] for s in bench.specs] == [{"name": "pico-a"}, {"runtime": "rust", "probe": "swd"}]
    assert bench.describe()["places"] == {"mpy-a": "pico-a", "rust-any": "runtime=rust probe=swd"}
    assert bench.device_clock_domain("rust") == "device"
    assert bench.lists_without_start


@pytest.mark.parametrize("boards, line, key, words", [
    ("  - {id: a, runtime: micropython}\n", 4, "boards[0]", "exactly one of `place:`"),
    ("  - {id: a, runtime: micropython, place: p, tags: {x: y}}\n", 4, "boards[0]", "exactly one of `place:`"),
    ("  - {id: a, runtime: micropython, place: p}\n  - {id: a, runtime: micropython, place: q}\n", 5,
     "boards[1].id", "duplicate board id 'a' (first at line 4)"),
    ("  - {id: a, runtime: micropython, place: p, flash: picotool}\n", 4, "boards[0].flash",
     "cannot provision a micropython board"),
])
def test_a_wrong_board_entry_is_named_by_file_line_and_key(tmp_path, boards, line, key, words):
    path = write(tmp_path, "kind: labgrid\ncoordinator: c\nboards:\n" + boards)
    with pytest.raises(ConfigError) as raised:
        load_bench_config(path)
    assert (raised.value.path, raised.value.line, raised.value.key) == (path, line, key), str(raised.value)
    assert words in raised.value.message


def test_a_labgrid_bench_file_without_a_coordinator_is_refused_naming_the_file(tmp_path):
    path = write(tmp_path, "kind: labgrid\nboards:\n  - {id: a, runtime: micropython, place: p}\n")
    with pytest.raises(ConfigError) as raised:
        open_bench(path)
    assert raised.value.path == path and "coordinator" in str(raised.value)
