"""Boards on another machine: a bench entry may name `rfc2217://host:port` for a board's serial link. Here a
local RFC 2217 server (pyserial's PortManager, standing in for ser2net on the remote host) sits in front of a
local board, and everything that works on the local port must work the same through it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import serial.rfc2217

from hil.board.micropython_board import MicroPythonBoard
from hil.deadline import Deadline
from hil.deploy.micropython_deployer import MicroPythonDeployer
from hil.sim.sim_bench import SimBench
from hil.transport.serial_transport import SerialTransport
from tests.core.pty_device import PtyDevice
from tests.deploy.fake_micropython_board import FakeMicroPythonBoard
from tests.scale.conftest import PROJECT_ROOT
from tests.scale.pty_bench import PtyBench
from tests.scale.rfc2217_server import Rfc2217Server
from tests.scale.scenario_project import (
    GREET, RUN_TIMEOUT_S, only_claim, pytest_argv, write_bench_file, write_project,
)

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")   # pyserial's own threads

OPEN_TIMEOUT_S = 10.0
IO_TIMEOUT_S = 10.0
EVERY_BYTE = bytes(range(256)) * 64       # 0xFF is Telnet's IAC: the protocol must escape it both ways
PORT_ABSENT_S = 0.3
POLL_S = 0.1
READS = 30
SIM_START_TIMEOUT_S = 120.0


@pytest.fixture
def device(tmp_path):
    pty = PtyDevice(tmp_path / "pico.port")
    yield pty
    pty.close()


def test_every_byte_value_crosses_rfc2217_unchanged_both_ways(device):
    with Rfc2217Server(str(device.link_path)) as server, SerialTransport(server.url, board_id="remote") as link:
        link.open(OPEN_TIMEOUT_S)
        device.send(b"READY\r\n" + EVERY_BYTE)
        link.expect(r"READY\r\n", IO_TIMEOUT_S)
        assert link.read_exactly(len(EVERY_BYTE), IO_TIMEOUT_S) == EVERY_BYTE
        link.write(EVERY_BYTE)
        assert device.receive(len(EVERY_BYTE), IO_TIMEOUT_S) == EVERY_BYTE
        assert link.port == server.url


def test_reading_never_renegotiates_the_port_settings_with_the_server(device, monkeypatch):
    """pyserial re-sends every setting (and waits for the answers) whenever a port's timeout changes: a transport
    that changed it per read would pay a network round trip for every read."""
    settings_requests = []
    original = serial.rfc2217.PortManager._telnet_process_subnegotiation

    def counting(manager, suboption):
        if suboption[0:1] == serial.rfc2217.COM_PORT_OPTION and suboption[1:2] == serial.rfc2217.SET_BAUDRATE:
            settings_requests.append(suboption)
        return original(manager, suboption)

    monkeypatch.setattr(serial.rfc2217.PortManager, "_telnet_process_subnegotiation", counting)
    with Rfc2217Server(str(device.link_path)) as server, SerialTransport(server.url, board_id="remote") as link:
        link.open(OPEN_TIMEOUT_S)
        opened_with = len(settings_requests)
        for n in range(READS):
            device.send(f"line {n}\n".encode())
            link.expect(f"line {n}\n", IO_TIMEOUT_S)
            link.read_available(wait_s=0)
    assert opened_with >= 1
    assert len(settings_requests) == opened_with


def test_a_port_that_reenumerates_behind_the_server_is_found_again_by_reconnecting(device):
    with Rfc2217Server(str(device.link_path)) as server, SerialTransport(server.url, board_id="remote") as link:
        link.open(OPEN_TIMEOUT_S)
        device.send(b"before\n")
        link.expect("before\n", IO_TIMEOUT_S)
        device.reenumerate(absent_s=PORT_ABSENT_S)       # a reset: the server loses the port, drops the link
        deadline = Deadline(IO_TIMEOUT_S)
        while link.reconnects == 0:                      # reading notices the dropped link and connects again
            deadline.check("the transport reconnecting")
            link.read_available(wait_s=POLL_S)
        link.write(b"ping\n")
        assert device.receive(len(b"ping\n"), IO_TIMEOUT_S) == b"ping\n"
        device.send(b"after\n")
        link.expect("after\n", IO_TIMEOUT_S)
        assert link.reconnects >= 1 and server.connections_served >= 2


@pytest.fixture
def micropython_device(tmp_path):
    board = FakeMicroPythonBoard(tmp_path / "board")
    yield board
    board.close()


def test_the_raw_repl_answers_the_same_over_rfc2217_as_on_the_local_port(micropython_device):
    code = "import sys\nprint(sys.implementation.name, 6 * 7)\nprint(1 / 0)"
    local_bench = PtyBench("local", [{"id": "pico-mpy", "runtime": "micropython", "port": micropython_device.port}])
    local = MicroPythonBoard(local_bench.specs[0], local_bench)
    local_result = local.exec(code)
    local.close()
    with Rfc2217Server(micropython_device.port) as server:
        remote_bench = PtyBench("remote", [{"id": "pico-mpy", "runtime": "micropython", "port": server.url}])
        remote = MicroPythonBoard(remote_bench.specs[0], remote_bench)
        remote_result = remote.exec(code)
        remote.close()
    assert remote_result.stdout == local_result.stdout == "micropython 42\n"
    assert remote_result.stderr == local_result.stderr
    assert remote_result.exception.type == "ZeroDivisionError"


def test_mpremote_deploys_over_rfc2217_and_skips_unchanged_files(micropython_device, tmp_path):
    script = tmp_path / "greet.py"
    script.write_text("GREETING = 'hello from afar'\n")
    with Rfc2217Server(micropython_device.port) as server:
        deployer = MicroPythonDeployer("pico-mpy")
        first = deployer.deploy(server.url, [(script, "/greet.py")], IO_TIMEOUT_S)
        second = deployer.deploy(server.url, [(script, "/greet.py")], IO_TIMEOUT_S)
    assert micropython_device.board_file("/greet.py").read_text() == script.read_text()
    assert (len(first.files_written), len(second.files_written), len(second.files_unchanged)) == (1, 0, 1)


# -- a whole scenario, through the pytest plugin and a bench file, local and remote -------------------------

def comparable(claim: dict) -> dict:
    """What must match between runs: outcome, metrics (host timings by name, unit and clock only), boards, and
    the verdict of every assertion."""
    metrics = sorted((m["name"], m["unit"], m["clock_domain"], m["board"],
                      None if m["clock_domain"] == "host" else m["value"]) for m in claim["metrics"])
    return {"status": claim["status"], "metrics": metrics, "boards": sorted(claim["boards"]),
            "assertions": sorted(v for k, v in claim["evidence"].items() if k.startswith("assert-line-"))}


def _run_scenario(pytester, bench_file: Path, results_name: str) -> dict:
    result = pytester.runpytest_subprocess(*pytest_argv(bench_file, results_name), timeout=RUN_TIMEOUT_S)
    result.assert_outcomes(passed=1)
    return only_claim(pytester.path / results_name)


def test_a_scenario_runs_over_rfc2217_exactly_as_over_a_local_port(pytester, monkeypatch, lock_dir,
                                                                   micropython_device):
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    write_project(pytester.path)

    local_bench = write_bench_file(pytester.path / "local.yaml", "pico-mpy", micropython_device.port)
    local = _run_scenario(pytester, local_bench, "local.json")
    micropython_device.board_file("/greet.py").unlink()        # so the remote run deploys it again
    with Rfc2217Server(micropython_device.port) as server:
        remote_bench = write_bench_file(pytester.path / "remote.yaml", "pico-mpy", server.url)
        remote = _run_scenario(pytester, remote_bench, "remote.json")
        assert server.connections_served >= 2                  # the deployer's and the board's own connection

    assert remote["status"] == "passed"
    assert ("greet_file_bytes", "bytes", "none", "pico-mpy", len(GREET)) in comparable(remote)["metrics"]
    assert comparable(remote) == comparable(local)
    assert remote["boards"]["pico-mpy"]["port"] == server.url
    assert local["boards"]["pico-mpy"]["port"] == micropython_device.port


@pytest.fixture
def simulated_micropython_port(tmp_path_factory):
    """The port of a simulated MicroPython Pico (the real MicroPython, in WebAssembly), on a bench of its own."""
    if shutil.which("node") is None:
        pytest.skip("the simulated bench needs Node.js")
    bench = SimBench(sim_dir=tmp_path_factory.mktemp("sim"), rust_count=0, micropython_count=1)
    bench.start(SIM_START_TIMEOUT_S)
    try:
        yield bench.locate_port(bench.specs[0], OPEN_TIMEOUT_S)
    finally:
        bench.stop()


def test_a_scenario_on_a_simulated_pico_runs_over_rfc2217_exactly_as_over_its_local_port(
        pytester, monkeypatch, lock_dir, simulated_micropython_port):
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    write_project(pytester.path)
    local = _run_scenario(pytester, write_bench_file(pytester.path / "local.yaml", "pico-mpy",
                                                     simulated_micropython_port), "local.json")
    with Rfc2217Server(simulated_micropython_port) as server:
        remote = _run_scenario(pytester, write_bench_file(pytester.path / "remote.yaml", "pico-mpy", server.url),
                               "remote.json")
    assert remote["status"] == local["status"] == "passed"
    assert ("greet_file_bytes", "bytes", "none", "pico-mpy", len(GREET)) in comparable(remote)["metrics"]
    assert comparable(remote) == comparable(local)
