"""SimBench: the simulated bench behind the common Bench interface, sharing one supervisor per sim dir."""
import json
import os
import subprocess
import sys
import threading

import pytest
import serial

from tests.sim_bench.sim_helpers import REPO_ROOT, echo_board_commands, process_alive, wait_until
from hil.errors import BoardNotFound, PortVanished
from hil.sim.control_client import ControlClient
from hil.sim.sim_bench import STANDINS_DIR, SimBench
from hil.sim.supervisor import UNUSED_EXIT_AFTER_S

START_TIMEOUT_S = 20.0
EXIT_TIMEOUT_S = 10.0


def make_bench(sim_dir, **kwargs) -> SimBench:
    return SimBench(sim_dir=sim_dir, board_commands=echo_board_commands(), **kwargs)


def supervisor_pid(sim_dir) -> int:
    return ControlClient(sim_dir).ping(5.0)["pid"]


def all_pids(sim_dir) -> list[int]:
    with ControlClient(sim_dir) as client:
        return [client.ping(5.0)["pid"]] + [b["pid"] for b in client.list_boards(5.0) if b["pid"]]


@pytest.fixture
def benches():
    started: list[SimBench] = []
    yield started
    for bench in started:
        bench.stop()


def test_default_sim_bench_is_one_rust_and_one_micropython_board_with_simulated_identities(sim_dir):
    bench = SimBench(sim_dir=sim_dir)
    rust, mpy = bench.specs
    assert (rust.board_id, rust.runtime, rust.vid_pid, rust.flash_method) == ("sim-rust-0", "rust", "2e8a:0009",
                                                                              "probe-rs")
    assert (mpy.board_id, mpy.runtime, mpy.vid_pid, mpy.flash_method) == ("sim-mpy-0", "micropython",
                                                                          "2e8a:0005", "mpremote")
    assert rust.port == str(sim_dir.resolve() / "sim-rust-0.usb")
    assert rust.uart_port == str(sim_dir.resolve() / "sim-rust-0.uart0") and mpy.uart_port is None
    assert rust.probe.startswith("2e8a:000c:") and mpy.probe is None


def test_start_brings_up_a_supervisor_and_stop_ends_it_with_its_boards(sim_dir, benches):
    bench = make_bench(sim_dir)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    pids = all_pids(sim_dir)
    port = bench.locate_port(bench.spec("sim-mpy-0"), 5.0)
    with serial.Serial(port, 115200, timeout=2.0) as link:
        link.write(b"through the bench")
        assert link.read(17) == b"through the bench"

    bench.stop()
    wait_until(lambda: not any(process_alive(pid) for pid in pids), EXIT_TIMEOUT_S, "supervisor and boards gone")
    assert not os.path.lexists(port)


def test_benches_started_together_share_one_supervisor_and_the_last_one_out_stops_it(sim_dir, benches):
    # Like pytest-xdist workers on one host: all start at once, exactly one supervisor results.
    group = [make_bench(sim_dir) for _ in range(3)]
    benches.extend(group)
    errors = []
    threads = [threading.Thread(target=lambda b=b: _start_collecting(b, errors)) for b in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(START_TIMEOUT_S + 5)
    assert errors == []
    pid = supervisor_pid(sim_dir)
    assert {bench.supervisor_info["pid"] for bench in group} == {pid}

    group[0].stop()
    group[1].stop()
    assert supervisor_pid(sim_dir) == pid   # one user left: still serving
    group[2].stop()
    wait_until(lambda: not process_alive(pid), EXIT_TIMEOUT_S, "supervisor gone after the last user")


def _start_collecting(bench: SimBench, errors: list) -> None:
    try:
        bench.start(START_TIMEOUT_S)
    except Exception as err:   # reported by the test's assertion
        errors.append(err)


def test_a_supervisor_whose_users_all_died_exits_by_itself(sim_dir):
    script = ("import sys, os, json; from hil.sim.sim_bench import SimBench; "
              "b = SimBench(sim_dir=sys.argv[1], board_commands=json.loads(sys.argv[2])); "
              "b.start(20); print(b.supervisor_info['pid'], flush=True); os._exit(0)")   # no stop(): a crash
    user = subprocess.run([sys.executable, "-c", script, str(sim_dir), json.dumps(echo_board_commands())],
                          capture_output=True, text=True, timeout=START_TIMEOUT_S + 5, cwd=REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert user.returncode == 0, user.stderr
    pid = int(user.stdout.split()[0])
    wait_until(lambda: not process_alive(pid), UNUSED_EXIT_AFTER_S + EXIT_TIMEOUT_S, "unused supervisor exiting")


def test_a_bench_uses_a_running_hil_sim_serve_and_never_stops_it(start_supervisor, benches):
    supervisor = start_supervisor("--rust", "1", "--micropython", "1")
    bench = SimBench(sim_dir=supervisor.sim_dir)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    assert bench.supervisor_info["pid"] == supervisor.popen.pid
    bench.stop()
    assert supervisor.popen.poll() is None
    assert supervisor_pid(supervisor.sim_dir) == supervisor.popen.pid


def test_a_bench_joining_a_running_supervisor_needs_no_images_and_records_the_ones_it_runs(
        start_supervisor, benches, monkeypatch, tmp_path):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    monkeypatch.delenv("HIL_FIRMWARE_DIR", raising=False)        # this user has no images of its own
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    bench = SimBench(sim_dir=supervisor.sim_dir, rust_count=0, micropython_count=1)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    facts = bench.board_facts(bench.spec("sim-mpy-0"))
    assert facts["micropython_uf2"].startswith("MicroPython v") and " sha256:" in facts["micropython_uf2"]
    assert bench.describe()["firmware_images"]["bootrom"]["sha256"] in facts["bootrom"]


def test_a_board_the_running_supervisor_lacks_is_reported_by_name(start_supervisor, benches):
    supervisor = start_supervisor("--rust", "0", "--micropython", "1")
    bench = SimBench(sim_dir=supervisor.sim_dir)   # wants sim-rust-0 too
    benches.append(bench)
    with pytest.raises(BoardNotFound, match="sim-rust-0"):
        bench.start(START_TIMEOUT_S)


def test_locate_port_waits_for_a_re_enumerating_port_and_gives_up_at_its_deadline(sim_dir, benches):
    bench = make_bench(sim_dir, rust_count=1, micropython_count=0)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    spec = bench.spec("sim-rust-0")
    bench.client.board_command("sim-rust-0", "reset", 5.0)
    assert bench.locate_port(spec, 5.0) == spec.port
    with serial.Serial(spec.port, 115200, timeout=2.0) as link:
        link.write(b"back")
        assert link.read(4) == b"back"
    bench.client.board_command("sim-rust-0", "bootsel", 5.0)   # no serial port in BOOTSEL
    wait_until(lambda: not os.path.lexists(spec.port), 5.0, "port gone in BOOTSEL")
    with pytest.raises(PortVanished):
        bench.locate_port(spec, 0.3)


def test_attached_shows_each_board_with_its_port_and_state(sim_dir, benches):
    bench = make_bench(sim_dir)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    bench.locate_port(bench.spec("sim-rust-0"), 5.0)
    attached = {a.board_id: a for a in bench.attached()}
    assert set(attached) == {"sim-rust-0", "sim-mpy-0"}
    assert (attached["sim-mpy-0"].port, attached["sim-mpy-0"].state) == (None, "not started")
    rust = attached["sim-rust-0"]
    assert (rust.port, rust.state, rust.serial_number) == (bench.spec("sim-rust-0").port, "running",
                                                           bench.spec("sim-rust-0").serial_number)
    assert "probe=2e8a:000c:" in rust.detail


def test_a_bench_starts_only_the_boards_a_run_uses(sim_dir, benches):
    """The supervisor a bench starts runs no board process until a board is used: a run that needs only a
    MicroPython board never starts the Rust one (nor fails because of it)."""
    bench = make_bench(sim_dir)
    benches.append(bench)
    bench.start(START_TIMEOUT_S)
    with ControlClient(sim_dir) as client:
        assert {b["id"]: b["pid"] for b in client.list_boards(5.0)} == {"sim-rust-0": None, "sim-mpy-0": None}
    bench.locate_port(bench.spec("sim-mpy-0"), 5.0)
    with ControlClient(sim_dir) as client:
        boards = {b["id"]: b for b in client.list_boards(5.0)}
    assert boards["sim-rust-0"]["pid"] is None and boards["sim-rust-0"]["process_state"] == "stopped"
    assert process_alive(boards["sim-mpy-0"]["pid"]) and boards["sim-mpy-0"]["process_state"] == "ready"
    assert not os.path.lexists(bench.spec("sim-rust-0").port)


def test_tool_env_puts_the_stand_ins_first_on_path_and_names_the_sim_dir(sim_dir):
    env = SimBench(sim_dir=sim_dir).tool_env()
    assert env["PATH"].split(os.pathsep)[0] == str(STANDINS_DIR)
    assert env["HIL_SIM_DIR"] == str(sim_dir.resolve())


def test_sim_dir_defaults_to_hil_sim_dir_from_the_environment(monkeypatch, sim_dir):
    monkeypatch.setenv("HIL_SIM_DIR", str(sim_dir))
    assert SimBench().sim_dir == sim_dir.resolve()
    monkeypatch.delenv("HIL_SIM_DIR")
    monkeypatch.chdir(sim_dir)
    assert SimBench().sim_dir == sim_dir.resolve() / ".hil" / "sim"


def test_device_clock_domains_name_the_simulators_clocks():
    bench = SimBench(sim_dir="/tmp/unused")
    assert bench.device_clock_domain("rust") == "rp2040js-virtual"
    assert bench.device_clock_domain("micropython") == "rp2040js-virtual"


def test_a_sim_bench_file_names_the_boards_and_the_link(tmp_path, sim_dir):
    from hil.bench.bench_file import load_bench_file
    bench_file = tmp_path / "classroom.yaml"
    bench_file.write_text("bench: classroom\nkind: sim\nlink: none\nboards:\n"
                          "  - {id: pico-a, runtime: rust, flash: picotool}\n"
                          "  - {id: pico-b, runtime: micropython}\n")
    bench = SimBench.from_config(load_bench_file(bench_file), sim_dir=sim_dir)
    assert (bench.name, bench.link) == ("classroom", "none")
    a, b = bench.specs
    assert (a.board_id, a.runtime, a.flash_method, a.vid_pid) == ("pico-a", "rust", "picotool", "2e8a:0009")
    assert a.port == str(sim_dir.resolve() / "pico-a.usb") and a.source.startswith(str(bench_file))
    assert (b.board_id, b.runtime, b.flash_method) == ("pico-b", "micropython", "mpremote")


def test_the_default_bench_comes_from_no_bench_file(sim_dir):
    bench = SimBench.from_config(None, sim_dir=sim_dir)
    assert [s.board_id for s in bench.specs] == ["sim-rust-0", "sim-mpy-0"]
