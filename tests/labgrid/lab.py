"""A real labgrid lab on 127.0.0.1: the simulated bench's boards, ser2net per "host" exporting their serial
ports over RFC 2217, one labgrid-coordinator, and one labgrid-exporter per host. Every process is started and
stopped with a deadline; stop() ends them even when a test failed half way."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hil.deadline import Deadline
from hil.process import stop_process_group

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
CLIENT_TIMEOUT_S = 30.0
POLL_S = 0.1
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """A labgrid command from this interpreter's environment, or ser2net from the system."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)),
                                      None)


def missing_tools() -> list[str]:
    return [name for name in ("labgrid-coordinator", "labgrid-exporter", "labgrid-client", "ser2net")
            if tool(name) is None]


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_tcp(port: int, deadline: Deadline, what: str) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if deadline.expired:
                raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {deadline.timeout_s:g} s")
            time.sleep(POLL_S)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        if self.popen.poll() is None:
            stop_process_group(self.popen, timeout_s)


@dataclass
class Lab:
    root: Path
    coordinator: str = ""
    procs: list[Proc] = field(default_factory=list)
    boards: dict[str, tuple[str, str]] = field(default_factory=dict)   # board id -> (runtime, sim port)
    places: dict[str, str] = field(default_factory=dict)        # place -> exporter ("host") name
    traces: dict[str, Path] = field(default_factory=dict)       # place -> ser2net trace of its serial line
    sim_dir: Path | None = None

    def spawn(self, name: str, argv: list[str], cwd: Path | None = None, env: dict | None = None) -> Proc:
        log = self.root / f"{name}.log"
        popen = subprocess.Popen(argv, cwd=cwd or self.root, env=env or os.environ.copy(), stdin=subprocess.DEVNULL,
                                 stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def client(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([tool("labgrid-client"), "-x", self.coordinator, *args], capture_output=True,
                                text=True, timeout=CLIENT_TIMEOUT_S, env=env or os.environ.copy(),
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise RuntimeError(f"labgrid-client {' '.join(args)}: {result.stderr or result.stdout}")
        return result

    def start_sim(self, micropython: int, rust: int, deadline: Deadline) -> None:
        """`hil sim serve`: the simulated boards, each on a pseudo-terminal."""
        self.sim_dir = self.root / "sim"
        proc = self.spawn("sim", [str(VENV_BIN / "hil"), "sim", "serve", "--sim-dir", str(self.sim_dir),
                                  "--rust", str(rust), "--micropython", str(micropython)])
        while len(self.boards) < micropython + rust:
            lines = proc.log.read_text(errors="replace").splitlines()
            for line in lines:
                parts = line.split()
                if len(parts) == 3 and parts[1] in ("micropython", "rust") and os.path.exists(parts[2]):
                    self.boards[parts[0]] = (parts[1], parts[2])
            if proc.popen.poll() is not None:
                raise RuntimeError(f"hil sim serve exited: {proc.log.read_text()[-2000:]}")
            if deadline.expired:
                raise TimeoutError(f"hil sim serve: no {micropython} boards within {deadline.timeout_s:g} s")
            time.sleep(POLL_S)

    def start_coordinator(self, deadline: Deadline) -> None:
        port = free_tcp_port()
        self.coordinator = f"127.0.0.1:{port}"
        state = self.root / "coordinator"
        state.mkdir()
        self.spawn("coordinator", [tool("labgrid-coordinator"), "-l", self.coordinator], cwd=state)
        wait_tcp(port, deadline, "labgrid-coordinator")

    def start_host(self, host: str, place_ports: dict[str, tuple[str, str]], deadline: Deadline,
                   resources: dict[str, dict[str, dict]] | None = None) -> None:
        """One exporter host: ser2net serving each port over RFC 2217 (one connection at a time, traced), and a
        labgrid-exporter publishing them as NetworkSerialPort resources of groups named after the places, plus
        `resources` (place -> {class: parameters}) in the places' groups as given."""
        ser2net_config, exporter_config, tcp_ports = [], {}, {}
        for place, (runtime, device) in place_ports.items():
            tcp_ports[place] = free_tcp_port()
            self.traces[place] = self.root / f"{place}.trace"
            ser2net_config += [f"connection: &{place.replace('-', '_')}",
                               f"  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,{tcp_ports[place]}",
                               f"  connector: serialdev(nouucplock=true),{device},115200n81,local",
                               "  options:",
                               "    max-connections: 1",
                               f"    trace-both: {self.traces[place]}",
                               ""]
            exporter_config[place] = {"NetworkSerialPort": {"host": "127.0.0.1", "port": tcp_ports[place],
                                                            "speed": 115200},
                                      **(resources or {}).get(place, {})}
        (self.root / f"{host}-ser2net.yaml").write_text("\n".join(ser2net_config))
        (self.root / f"{host}-exporter.yaml").write_text(yaml.safe_dump(exporter_config, sort_keys=False))
        self.spawn(f"{host}-ser2net", [tool("ser2net"), "-n", "-d", "-c", str(self.root / f"{host}-ser2net.yaml"),
                                       "-P", str(self.root / f"{host}-ser2net.pid")])
        for port in tcp_ports.values():
            wait_tcp(port, deadline, f"ser2net of {host}")
        self.spawn(f"{host}-exporter", [tool("labgrid-exporter"), "-c", self.coordinator, "-n", host,
                                        "--hostname", "127.0.0.1", str(self.root / f"{host}-exporter.yaml")])
        for place, (runtime, _) in place_ports.items():
            self.places[place] = host
            self.client("-p", place, "create")
            self.client("-p", place, "add-match", f"{host}/{place}/*")
            self.client("-p", place, "set-tags", f"runtime={runtime}")
        self.wait_resources(list(place_ports), deadline)

    def wait_resources(self, places: list[str], deadline: Deadline) -> None:
        while True:
            shown = self.client("resources").stdout
            if all(f"{self.places[p]}/{p}/NetworkSerialPort" in shown for p in places):
                return
            if deadline.expired:
                raise TimeoutError(f"exporter resources not at the coordinator within {deadline.timeout_s:g} s: "
                                   f"{shown}")
            time.sleep(POLL_S * 5)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def start_lab(root: Path, hosts: dict[str, list[str]], resources: dict[str, dict[str, dict]] | None = None,
              before_hosts=None) -> Lab:
    """hosts: exporter name -> its places, each "name" (a simulated MicroPython board) or "name:rust";
    resources: place -> {labgrid resource class: parameters} exported beside its serial port; before_hosts(lab,
    deadline) runs once the simulated boards are up, before the exporters start (e.g. the SSH host)."""
    root.mkdir(parents=True, exist_ok=True)
    lab = Lab(root)
    deadline = Deadline(START_TIMEOUT_S)
    try:
        wanted = [(place.partition(":")[0], place.partition(":")[2] or "micropython")
                  for places in hosts.values() for place in places]
        lab.start_sim(sum(r == "micropython" for _, r in wanted), sum(r == "rust" for _, r in wanted), deadline)
        lab.start_coordinator(deadline)
        if before_hosts is not None:
            before_hosts(lab, deadline)
        free = {runtime: iter(sorted(port for r, port in lab.boards.values() if r == runtime))
                for runtime in ("micropython", "rust")}
        for host, places in hosts.items():
            lab.start_host(host, {name: (runtime, next(free[runtime])) for name, runtime in
                                  (((p.partition(":")[0], p.partition(":")[2] or "micropython")) for p in places)},
                           deadline, resources)
    except BaseException:
        lab.stop()
        raise
    return lab
