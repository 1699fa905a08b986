"""Remote flashing and power on a labgrid place, for real: the place's exporter host "exporter-r" is reached over
SSH (its own sshd on 127.0.0.1, tests/labgrid/ssh_host.py) by labgrid's own sshmanager and ManagedFile; the flash
tools there are the simulated bench's probe-rs / picotool stand-ins (on that host's PATH only, never on the test
run's), which flash the simulated Pico behind the place's serial port. The place's power is a NetworkPowerPort
(labgrid's `simplerest` model) served by a small HTTP server here that power-cycles the simulated Pico."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hil.deadline import Deadline
from tests.labgrid.lab import Lab, free_tcp_port, missing_tools, start_lab
from tests.labgrid.ssh_host import SshHost, missing_ssh_tools, start_ssh_host
from tests.labgrid.test_labgrid_lab import finish

pytestmark = pytest.mark.slow   # real labgrid processes, sshd, a simulated Rust Pico, pytest runs in subprocesses

if missing_tools() or missing_ssh_tools():
    pytest.skip(f"not installed: {', '.join(missing_tools() + missing_ssh_tools())} (./run installs them: "
                "pip install 'pico-hil[labgrid]', apt-get install ser2net openssh-server rsync)",
                allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "hil" / "sim" / "standins"
ALIAS = "exporter-r"
PLACE = "pico-r"
RUN_TIMEOUT_S = 400.0
POWER_CONTROL_TIMEOUT_S = 10.0


class PowerPort:
    """A `simplerest` power switch: GET /power/<index>/<0|1> switches, GET /power/<index> reads. Switching on after
    off restarts the simulated Pico from its flash (the supervisor's power_cycle), as power returning does."""

    def __init__(self, port: int):
        self.port = port
        self.sim_dir: Path | None = None
        self.board_id: str | None = None
        self.requests: list[str] = []
        self.powered = True
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                found = re.fullmatch(r"/power/0(?:/([01]))?", self.path)
                if not found:
                    self.send_error(404)
                    return
                if found.group(1) is not None:
                    switch.switch(found.group(1) == "1")
                body = b"1" if switch.powered else b"0"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="power-port", daemon=True)

    def start(self, sim_dir: Path, board_id: str) -> None:
        self.sim_dir, self.board_id = sim_dir, board_id
        self.thread.start()

    def switch(self, on: bool) -> None:
        from hil.sim.control_client import ControlClient
        self.requests.append("on" if on else "off")
        if on and not self.powered:
            with ControlClient(self.sim_dir).connect(POWER_CONTROL_TIMEOUT_S) as client:
                client.board_command(self.board_id, "power_cycle", POWER_CONTROL_TIMEOUT_S)
        self.powered = on

    def stop(self) -> None:
        if self.thread.is_alive():   # shutdown() waits for serve_forever(), which a failed start never began
            self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def remote_lab(tmp_path_factory):
    power = PowerPort(free_tcp_port())
    hosts: dict[str, SshHost] = {}

    def exporter_host(lab: Lab, deadline: Deadline) -> None:
        described = json.loads((lab.sim_dir / "bench.json").read_text())
        (board,) = [b for b in described["boards"] if b["runtime"] == "rust"]
        power.start(lab.sim_dir, board["id"])
        # the exporter host's own PATH: its flash tools (here the stand-ins) and the system's
        hosts[ALIAS] = start_ssh_host(lab, ALIAS, {"PATH": f"{STANDINS}:/usr/local/bin:/usr/bin:/bin",
                                                   "HIL_SIM_DIR": str(lab.sim_dir)}, deadline)

    usb = {"host": ALIAS, "busnum": 1, "devnum": 7, "path": "1-1.4", "vendor_id": 0x2E8A}
    resources = {PLACE: {
        # as a USBDebugger / USBFlashableDevice export shows at the coordinator (the exporter renames them)
        "NetworkUSBDebugger": {**usb, "devnum": 8, "path": "1-1.3", "model_id": 0x000C},
        "NetworkUSBFlashableDevice": {**usb, "model_id": 0x000A, "devnode": None},
        "NetworkPowerPort": {"model": "simplerest", "host": f"http://127.0.0.1:{power.port}/power/{{index}}/{{value}}",
                             "index": 0},
    }}
    try:
        lab = start_lab(tmp_path_factory.mktemp("remote-lab"), {"host-r": [f"{PLACE}:rust"]}, resources,
                        exporter_host)
    except BaseException:
        power.stop()
        raise
    lab.ssh = hosts[ALIAS]
    lab.power = power
    lab.rust_board = json.loads((lab.sim_dir / "bench.json").read_text())["boards"]
    copies_before = _labgrid_copies()
    yield lab
    lab.stop()
    power.stop()
    for copy in _labgrid_copies() - copies_before:   # the image copies these tests made on the "exporter host"
        shutil.rmtree(copy, ignore_errors=True)


def _running(command_line: str) -> bool:
    """A process with exactly this command line runs on this machine (the tests' "exporter host")."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().replace(b"\0", b" ").strip() == command_line.encode():
                return True
        except OSError:
            pass
    return False


def _labgrid_copies() -> set[Path]:
    from labgrid.util.helper import get_user
    cache = Path("/var/cache/labgrid") / get_user()
    return set(cache.iterdir()) if cache.is_dir() else set()


def rust_board(lab: Lab) -> dict:
    (board,) = [b for b in lab.rust_board if b["runtime"] == "rust"]
    return board


def write_bench(root: Path, lab: Lab, board_entry: str) -> Path:
    bench = root / "lab.yaml"
    bench.write_text(textwrap.dedent(f"""\
        kind: labgrid
        coordinator: {lab.coordinator}
        wait_s: 60
        clock_domains: {{rust: rp2040js-virtual}}
        boards:
          - {board_entry}
        """))
    return bench


def run_pytest(root: Path, bench: Path, lab: Lab, *extra: str) -> subprocess.Popen:
    """`pytest -m hil` as a user runs it, with nothing but the ssh configuration added: no flash tool on PATH."""
    env = lab.ssh.path_env({**os.environ, "PYTHONPATH": str(REPO)})
    for name in ("LG_USERNAME", "HIL_LABGRID_RUN", "HIL_SIM_DIR"):
        env.pop(name, None)
    assert not any(shutil.which(tool, path=env["PATH"]) for tool in ("probe-rs", "picotool")), \
        "a flash tool on the test run's PATH would make this test prove nothing"
    return subprocess.Popen([sys.executable, "-m", "pytest", "-m", "hil", "-p", "no:cacheprovider", "-v",
                             f"--hil-bench={bench}", f"--hil-results={root}/results/results.json", *extra],
                            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=open(root / "pytest.out", "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def claims_of(root: Path) -> dict[str, dict]:
    return {c["scenario"]: c for c in json.loads((root / "results" / "results.json").read_text())["claims"]}


def test_probe_rs_on_the_exporter_host_flashes_two_builds_and_each_answers_its_build_id(remote_lab, tmp_path,
                                                                                       lock_dir):
    (tmp_path / "scenarios").mkdir()
    for name, firmware in (("handicapped", "{package: lesson, features: [handicap-sort]}"), ("plain", "lesson")):
        (tmp_path / "scenarios" / f"{name}.yaml").write_text(textwrap.dedent(f"""\
            scenario: remote-{name}
            claim: A Rust board on a remote labgrid place runs the build the scenario names.
            boards:
              rust: {{runtime: rust, firmware: {firmware}}}
            steps:
              - {{on: rust, command: id, expect: 'OK id name=lesson', timeout_s: 30}}
            """))
    board = rust_board(remote_lab)
    bench = write_bench(tmp_path, remote_lab, f"{{id: rust-r, runtime: rust, place: {PLACE}, flash: probe-rs, "
                                              f"probe: \"{board['probe']}\"}}")
    trace = remote_lab.traces[PLACE]
    trace_start = trace.stat().st_size if trace.exists() else 0
    run = run_pytest(tmp_path, bench, remote_lab)
    output = finish(run, tmp_path, RUN_TIMEOUT_S)
    assert run.returncode == 0, output
    claims = claims_of(tmp_path)
    assert sorted(claims) == ["remote-handicapped", "remote-plain"], claims
    build_ids = {}
    for name, claim in claims.items():
        assert claim["status"] == "passed", claim
        facts = claim["boards"]["rust-r"]
        build_ids[name] = facts["build_id"]
        flash = facts["flash"]
        # the tool ran with the copy ManagedFile made on the exporter host, named by the image's sha256
        download = next(step for step in flash["steps"] if step.startswith("probe-rs download"))
        staged = download.split()[-1]
        assert re.search(r"^/var/cache/labgrid/[^/]+/[0-9a-f]{64}/", staged), flash
        assert Path(staged).is_file()   # the "exporter host" is this machine: the copy is there
        assert flash["verified"] and flash["reset_done"], flash
    assert build_ids["remote-plain"] != build_ids["remote-handicapped"], build_ids
    # each build answered its own id over the place's serial port (ser2net's trace of the line)
    answered = trace.read_bytes()[trace_start:]
    for build_id in build_ids.values():
        assert f"build={build_id}".encode() in answered, (build_id, answered[-2000:])


def test_a_halted_remote_board_is_brought_back_by_the_place_power_port(remote_lab, tmp_path, lock_dir):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "panic.yaml").write_text(textwrap.dedent("""\
        scenario: remote-power
        claim: A panicked Rust board on a labgrid place comes back through the place's power port.
        boards:
          rust: {runtime: rust, firmware: {package: lesson, features: [handicap-sort]}}
        steps:
          - {on: rust, command: ping, expect: 'OK pong', timeout_s: 30}
          - {on: rust, command: panic explicit, expect_panic: {message: 'explicit panic', timeout_s: 10}}
          - {on: rust, check: halted, timeout_s: 5}
          - {on: rust, reset: true, timeout_s: 60}
          - {on: rust, command: ping, expect: 'OK pong', timeout_s: 30}
        """))
    board = rust_board(remote_lab)
    # picotool: `picotool reboot` needs running firmware, so only the power port can bring a halted board back
    bench = write_bench(tmp_path, remote_lab, f"{{id: rust-r, runtime: rust, place: {PLACE}, flash: picotool, "
                                              f"serial_number: \"{board['serial_number']}\"}}")
    requests_before = len(remote_lab.power.requests)
    run = run_pytest(tmp_path, bench, remote_lab)
    output = finish(run, tmp_path, RUN_TIMEOUT_S)
    assert run.returncode == 0, output
    (claim,) = claims_of(tmp_path).values()
    assert claim["status"] == "passed", claim
    facts = claim["boards"]["rust-r"]
    # flashed by picotool on the exporter host, from the copy there (a build no earlier test left on the board)
    assert any(re.fullmatch(rf"picotool load -v -x --ser {board['serial_number']} /var/cache/labgrid/[^/]+/"
                            r"[0-9a-f]{64}/lesson", step) for step in facts["flash"]["steps"]), facts["flash"]
    assert facts["reset_by"].startswith(f"power cycle (labgrid place {PLACE}: NetworkPowerPort"), facts
    assert remote_lab.power.requests[requests_before:] == ["off", "on"], remote_lab.power.requests


def test_a_place_without_the_flash_resource_is_named_with_the_board_and_the_class(remote_lab, tmp_path, monkeypatch):
    """In process: the bench, started against the coordinator, asked for a flasher the place cannot carry; and the
    place's debugger host running commands over labgrid's ssh: words kept apart, a missing tool named as such."""
    from hil.bench.bench_factory import open_bench
    from hil.errors import ToolMissing, ToolTimeout
    from hil.labgrid.exporter_tools import ExporterToolHost
    from hil.labgrid.lab_client import LabgridError, LabClient, PlaceResource

    bench_path = write_bench(tmp_path, remote_lab, f"{{id: rust-r, runtime: rust, place: {PLACE}, flash: probe-rs, "
                                                   f"probe: \"{rust_board(remote_lab)['probe']}\"}}")
    bench = open_bench(str(bench_path))
    bench.client = LabClient(remote_lab.coordinator, {**os.environ, "LG_USERNAME": f"unit-{os.getpid()}"})
    bench.start(60)
    try:
        spec = bench.specs[0]
        state = bench._state[PLACE]
        (debugger,) = [r for r in state.resources if r.cls == "NetworkUSBDebugger"]
        monkeypatch.setenv("PATH", remote_lab.ssh.path_env()["PATH"])
        host = ExporterToolHost(PLACE, spec.board_id, lambda: debugger)
        echoed = host.run(["printf", "%s|", "two words", "$HOME", "a;b"], 30)
        assert echoed.stdout == "two words|$HOME|a;b|", echoed
        # a tool past its deadline is stopped on the exporter host too, not only its local ssh
        with pytest.raises(ToolTimeout):
            host.run(["sleep", "47.25"], 1.0)
        assert Deadline(5.0).poll(lambda: not _running("sleep 47.25"), 0.1), "the remote tool outlived its deadline"
        with pytest.raises(ToolMissing) as missing:
            host.run(["no-such-flash-tool", "--version"], 30, install_hint="install it there")
        assert f"on the exporter host {ALIAS} of labgrid place {PLACE}: install it there" in str(missing.value)
        state.resources[:] = [r for r in state.resources if r.cls != "NetworkUSBDebugger"]
        assert isinstance(state.resources[0], PlaceResource)
        flasher = bench.flasher(spec)
        image = tmp_path / "image.elf"
        image.write_bytes(b"\x7fELF" + bytes(60))
        with pytest.raises(LabgridError) as raised:
            flasher.flash(image, 30)
        message = str(raised.value)
        assert f"labgrid place {PLACE}" in message and "board rust-r" in message and \
            "no NetworkUSBDebugger resource" in message, message
    finally:
        bench.stop()


def test_doctor_asks_each_exporter_host_for_its_flash_tool_over_ssh(remote_lab, tmp_path):
    board = rust_board(remote_lab)
    bench = write_bench(tmp_path, remote_lab, f"{{id: rust-r, runtime: rust, place: {PLACE}, flash: probe-rs, "
                                              f"probe: \"{board['probe']}\"}}")
    env = remote_lab.ssh.path_env({**os.environ, "PYTHONPATH": str(REPO)})
    doctor = subprocess.run([sys.executable, "-m", "hil.cli", "doctor", "--bench", str(bench)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    # the stand-in answers as probe-rs does, and only on the exporter host's PATH
    assert re.search(rf"probe-rs on {ALIAS}\s+found\s+probe-rs \d+\.\d+\.\d+ \(git commit: hil-sim stand-in\)",
                     doctor.stdout), doctor.stdout + doctor.stderr
    # without the ssh configuration the exporter host is unreachable: said, not hung
    unreachable = subprocess.run([sys.executable, "-m", "hil.cli", "doctor", "--bench", str(bench)], cwd=tmp_path,
                                 env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                                 timeout=120, stdin=subprocess.DEVNULL)
    assert re.search(rf"probe-rs on {ALIAS}\s+MISSING", unreachable.stdout), unreachable.stdout
