"""What a Rust board gets from its labgrid place, decided from the place's resources (no coordinator needed: the
bench's view of its acquired places is set as `start()` would leave it)."""
from __future__ import annotations

import textwrap

import pytest

from hil.bench.recovery import cannot_recover_reason
from hil.board.board_factory import make_board
from hil.errors import ConfigError, DeadlineExpired
from hil.labgrid.exporter_tools import ExporterToolHost
from hil.labgrid.lab_client import PlaceResource, PlaceState
from hil.labgrid.labgrid_bench import LabgridBench, labgrid_config
from hil.labgrid.labgrid_power import LabgridPowerSwitch
from hil.labgrid.place_resources import call_within
from hil.bench.bench_factory import load_bench_config

DEBUGGER = PlaceResource("host-b", "pico-r", "NetworkUSBDebugger", "NetworkUSBDebugger",
                         {"host": "host-b.lab", "busnum": None, "devnum": None, "path": None, "vendor_id": 0x2E8A,
                          "model_id": 0x000C}, {}, True)
POWER = PlaceResource("host-b", "pico-r", "NetworkPowerPort", "NetworkPowerPort",
                      {"model": "simplerest", "host": "http://127.0.0.1:9/power/{index}/{value}", "index": "0"}, {},
                      True)


def started_bench(tmp_path, board: str, resources: list[PlaceResource]) -> LabgridBench:
    path = tmp_path / "lab.yaml"
    path.write_text(textwrap.dedent(f"""\
        kind: labgrid
        coordinator: coord.lab
        boards:
          - {board}
        """))
    bench = LabgridBench(labgrid_config(load_bench_config(str(path))))
    bench._places = {bench.specs[0].board_id: "pico-r"}
    bench._state = {"pico-r": PlaceState("pico-r", {}, "me/me", None, [("127.0.0.1", 4001)], resources=resources)}
    return bench


def test_a_uf2_board_cannot_be_a_labgrid_place_and_the_error_names_the_board_and_the_ways(tmp_path):
    bench = started_bench(tmp_path, "{id: rust-r, runtime: rust, place: pico-r, flash: uf2}", [DEBUGGER])
    with pytest.raises(ConfigError) as raised:
        bench.flasher(bench.specs[0])
    message = str(raised.value)
    assert "board rust-r: flash: uf2 cannot flash a labgrid place" in message
    assert "probe-rs (the place's NetworkUSBDebugger)" in message and "picotool (the place's " in message


def test_probe_rs_runs_on_the_debugger_host_and_takes_its_vid_pid_when_the_bench_file_names_no_probe(tmp_path):
    bench = started_bench(tmp_path, "{id: rust-r, runtime: rust, place: pico-r}", [DEBUGGER])
    flasher = bench.flasher(bench.specs[0])
    assert isinstance(flasher.tool_host, ExporterToolHost)
    assert flasher.tool_host.describe() == ("host-b.lab (labgrid place pico-r, NetworkUSBDebugger "
                                            "pico-r/NetworkUSBDebugger)")
    assert flasher.probe == "2e8a:000c"
    named = started_bench(tmp_path, '{id: rust-r, runtime: rust, place: pico-r, probe: "2e8a:000c:E66"}', [DEBUGGER])
    assert named.flasher(named.specs[0]).probe == "2e8a:000c:E66"


def test_the_place_power_port_is_the_board_power_switch_and_makes_it_recoverable(tmp_path):
    bench = started_bench(tmp_path, '{id: rust-r, runtime: rust, place: pico-r, flash: picotool, serial_number: S1}',
                          [POWER])
    switch = bench.power_switch(bench.specs[0])
    assert isinstance(switch, LabgridPowerSwitch) and switch.driver_name == "NetworkPowerDriver"
    board = make_board(bench, bench.specs[0])
    assert [means.name for means in board.recovery] == [switch.describe(), "picotool reboot (needs running firmware)"]
    assert cannot_recover_reason(board.spec, board.recovery) == ""

    bare = started_bench(tmp_path, '{id: rust-r, runtime: rust, place: pico-r, flash: picotool, serial_number: S1}',
                         [])
    assert bare.power_switch(bare.specs[0]) is None
    reason = make_board(bare, bare.specs[0]).cannot_recover_reason()
    assert "board rust-r cannot be recovered after a panic" in reason and "labgrid place" in reason, reason


def test_a_power_switch_that_does_not_answer_is_cut_off_at_its_deadline(tmp_path):
    switch = LabgridPowerSwitch("pico-r", "rust-r", POWER)
    switch._driver = type("Hanging", (), {"cycle": staticmethod(lambda: __import__("time").sleep(30))})()
    with pytest.raises(DeadlineExpired) as raised:
        switch.power_cycle(0.3)
    assert "power cycle of labgrid place pico-r (board rust-r)" in str(raised.value)


def test_call_within_hands_back_the_value_or_the_error():
    assert call_within(lambda: 42, 5, "answer") == 42
    with pytest.raises(ZeroDivisionError):
        call_within(lambda: 1 / 0, 5, "division")
