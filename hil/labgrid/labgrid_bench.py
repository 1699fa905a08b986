"""The `labgrid` bench: boards shared across hosts, each one a labgrid place.

A run reserves one place per board of its bench file (by place name or by tags), waits for the reservations
with a deadline, acquires the places, and releases them at the end. Serial goes to the place's
NetworkSerialPort (ser2net on the exporter host, RFC 2217), so the transport, the raw REPL and mpremote work
unchanged. A place held by someone else is reported with its holder and never taken from them.

One process of a run owns the places (the pytest controller, or a `hil` command); it hands them to the run's
other processes (pytest-xdist workers) in HIL_LABGRID_RUN, and those only check that the places are still
held by the run. The per-board file locks then keep workers apart as on any bench.
"""
from __future__ import annotations

import dataclasses
import getpass
import json
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from hil.bench.bench import AttachedBoard, Bench, ToolRequirement, make_flasher
from hil.bench.board_spec import BoardSpec
from hil.bench.recovery import PowerSwitch, ResetLine
from hil.deadline import Deadline
from hil.deploy.flasher import Flasher
from hil.errors import BoardNotFound, ConfigError, HilError, seconds_text
from hil.labgrid.exporter_tools import FLASH_RESOURCES, ExporterToolHost
from hil.labgrid.lab_client import INSTALL_HINT, LabClient, LabgridError, PlaceResource, PlaceState, identity
from hil.labgrid.labgrid_power import POWER_DRIVERS, LabgridPowerSwitch

RUN_ENV = "HIL_LABGRID_RUN"
DEFAULT_WAIT_S = 600.0
COORDINATOR_TIMEOUT_S = 10.0     # one read of the coordinator's places
CLIENT_COMMAND_TIMEOUT_S = 30.0  # one labgrid-client reserve/acquire/release
RESERVATION_POLL_S = 1.0         # as labgrid-client's own `wait`
REMOTE_VERSION_TIMEOUT_S = 30.0  # `hil doctor`: ssh to an exporter host and ask its flash tool's version
FLASH_TOOL_HINTS = {"probe-rs": "on the exporter host: cargo install probe-rs-tools --locked",
                    "picotool": "on the exporter host: your distribution's picotool package"}
VERSION_ARGV = {"probe-rs": ["probe-rs", "--version"], "picotool": ["picotool", "version"]}
PARTIAL_HOLD_S = (2.0, 6.0)      # how long a run keeps part of its places before giving them back (random)


@dataclass
class LabgridConfig:
    path: str
    name: str
    coordinator: str
    wait_s: float
    specs: list[BoardSpec]
    clock_domains: dict[str, str] = field(default_factory=dict)
    tool_path: list[str] = field(default_factory=list)
    tool_env: dict[str, str] = field(default_factory=dict)


def labgrid_config(config) -> LabgridConfig:
    """The labgrid settings of a validated bench file (hil.bench.bench_file.BenchConfig of kind labgrid)."""
    if config is None:
        raise ConfigError("labgrid", None, None, "the labgrid bench needs a bench file naming the coordinator")
    options = config.options
    if not options.get("coordinator"):
        raise ConfigError(config.path, None, "coordinator", "a labgrid bench file names its coordinator "
                                                            "(HOST[:PORT])")
    specs = []
    for spec in config.specs:
        filters = ({"name": spec.extra["place"]} if "place" in spec.extra
                   else {k: str(v) for k, v in spec.extra["tags"].items()})
        specs.append(dataclasses.replace(spec, extra={**spec.extra, "filters": filters}))
    return LabgridConfig(path=config.path, name=config.name, coordinator=options["coordinator"],
                         wait_s=float(options.get("wait_s", DEFAULT_WAIT_S)), specs=specs,
                         clock_domains=dict(options.get("clock_domains", {})),
                         tool_path=list(options.get("tool_path", [])), tool_env=dict(options.get("tool_env", {})))


def _describe_filters(filters: dict[str, str]) -> str:
    return filters["name"] if list(filters) == ["name"] else " ".join(f"{k}={v}" for k, v in filters.items())


def _run_identity_env() -> dict[str, str]:
    """labgrid names a holder host/user; unless LG_USERNAME is set, each run gets its own user name
    (user-hil-PID), so `hil boards` tells two runs of one person apart and a crashed run's places are
    recognisable as such."""
    env = dict(os.environ)
    if not env.get("LG_USERNAME"):
        env["LG_USERNAME"] = f"{getpass.getuser()}-hil-{os.getpid()}"
    return env


class LabgridBench(Bench):
    lists_without_start = True   # `hil boards` shows who holds each place; it acquires nothing
    def __init__(self, config: LabgridConfig, client: LabClient | None = None):
        self.config = config
        self.name = config.name
        self.specs = list(config.specs)
        self.client = client or LabClient(config.coordinator, _run_identity_env())
        self._places: dict[str, str] = {}          # board id -> place name, once started
        self._tokens: list[str] = []               # reservations this process made
        self._acquired: list[str] = []             # places this process acquired (and must release)
        self._state: dict[str, PlaceState] = {}
        self._previous_sigterm = None

    # ---- start / stop
    def start(self, timeout_s: float) -> None:
        handed = self._handed_over()
        if handed is not None:
            self._attach(handed, Deadline(timeout_s))
            return
        self._install_sigterm()
        try:
            self._acquire_all(Deadline(max(timeout_s, self.config.wait_s)))
        except BaseException:
            self.stop()
            raise

    def _handed_over(self) -> dict | None:
        text = os.environ.get(RUN_ENV)
        if not text:
            return None
        handed = json.loads(text)
        return handed if handed.get("coordinator") == self.client.coordinator else None

    def handover(self) -> str:
        """What the run's other processes need (RUN_ENV): the coordinator, the holder and the places."""
        return json.dumps({"coordinator": self.client.coordinator, "holder": identity(self.client.env),
                           "places": self._places})

    def _attach(self, handed: dict, deadline: Deadline) -> None:
        """A process of a run whose owner acquired the places: check they are still the run's."""
        places = self.client.places(min(COORDINATOR_TIMEOUT_S, deadline.remaining_s))
        for board_id, place_name in handed["places"].items():
            place = places.get(place_name)
            if place is None or place.acquired_by != handed["holder"]:
                holder = place.acquired_by if place else "nobody (the place is gone)"
                raise LabgridError(f"place {place_name} (board {board_id}) is no longer held by this run "
                                   f"({handed['holder']}); it is held by {holder}")
        self._places = dict(handed["places"])
        self._state = places

    def _acquire_all(self, deadline: Deadline) -> None:
        client, holder = self.client, identity(self.client.env)
        pending: dict[str, str] = {}
        for spec in self.specs:
            token = client.reserve(spec.extra["filters"], min(CLIENT_COMMAND_TIMEOUT_S, deadline.remaining_s))
            self._tokens.append(token)
            pending[spec.board_id] = token
        self._report_held(deadline)
        allocated = self._wait_all_allocated(pending, deadline)
        for spec in self.specs:
            place = allocated[pending[spec.board_id]]
            client.acquire(place, min(CLIENT_COMMAND_TIMEOUT_S, max(deadline.remaining_s, 1.0)))
            self._acquired.append(place)
            self._places[spec.board_id] = place
        self._state = client.places(COORDINATOR_TIMEOUT_S)
        for board_id, place in self._places.items():
            if self._state[place].acquired_by != holder:
                raise LabgridError(f"place {place} should be held by {holder} but is held by "
                                   f"{self._state[place].acquired_by}")
        print(f"hil: labgrid {client.coordinator}: acquired "
              + ", ".join(f"{p} for {b}" for b, p in self._places.items()) + f" as {holder}",
              file=sys.stderr, flush=True)

    def _wait_all_allocated(self, pending: dict[str, str], deadline: Deadline) -> dict[str, str]:
        """Poll the run's reservations until every one has a place (then token -> place).

        labgrid allocates each reservation on its own, so two runs wanting the same places can each get some and
        wait for the others' forever. A run that has held only part of its places for a while gives those back
        (cancel, reserve anew: the other run's older reservations then come first) and keeps waiting; the
        random hold time keeps two runs from giving back in step.
        """
        partial_since: float | None = None
        hold_s = random.uniform(*PARTIAL_HOLD_S)
        while True:
            allocated = self.client.poll_reservations(list(pending.values()), COORDINATOR_TIMEOUT_S)
            if all(allocated.values()):
                return allocated
            if deadline.expired:
                for spec in self.specs:
                    if not allocated.get(pending[spec.board_id]):
                        raise LabgridError(f"no place for board {spec.board_id} "
                                           f"({_describe_filters(spec.extra['filters'])}) within "
                                           f"{seconds_text(deadline.timeout_s)} s: {self._holders_text(spec)}")
            if any(allocated.values()):
                partial_since = partial_since if partial_since is not None else time.monotonic()
                if time.monotonic() - partial_since > hold_s:
                    self._give_back([b for b, token in pending.items() if allocated[token]], pending)
                    partial_since, hold_s = None, random.uniform(*PARTIAL_HOLD_S)
            else:
                partial_since = None
            time.sleep(min(RESERVATION_POLL_S, max(deadline.remaining_s, 0.0)))

    def _give_back(self, board_ids: list[str], pending: dict[str, str]) -> None:
        """Cancel these boards' allocated reservations and queue new ones behind everyone waiting."""
        specs = {s.board_id: s for s in self.specs}
        for board_id in board_ids:
            old = pending[board_id]
            self.client.cancel_reservation(old, CLIENT_COMMAND_TIMEOUT_S)
            self._tokens.remove(old)
            pending[board_id] = self.client.reserve(specs[board_id].extra["filters"], CLIENT_COMMAND_TIMEOUT_S)
            self._tokens.append(pending[board_id])

    def _matching(self, spec: BoardSpec, places: dict[str, PlaceState]) -> list[PlaceState]:
        filters = spec.extra["filters"]
        return [p for p in places.values()
                if all((p.name if k == "name" else p.tags.get(k)) == v for k, v in filters.items())]

    def _holders_text(self, spec: BoardSpec) -> str:
        try:
            places = self.client.places(COORDINATOR_TIMEOUT_S)
        except LabgridError as error:
            return str(error)
        matching = self._matching(spec, places)
        if not matching:
            return "no place on the coordinator matches"
        return "; ".join(f"{p.name} {p.state}" + (f" by {p.acquired_by}" if p.acquired_by else "")
                         for p in matching)

    def _report_held(self, deadline: Deadline) -> None:
        """Say at once which wanted places someone else holds, and how to free one left by a crashed run."""
        places = self.client.places(min(COORDINATOR_TIMEOUT_S, max(deadline.remaining_s, 0.1)))
        for spec in self.specs:
            for place in self._matching(spec, places):
                if place.acquired_by:
                    free = f"labgrid-client -x {self.client.coordinator} -p {place.name} release -k"
                    if place.reservation:
                        free += f" && labgrid-client -x {self.client.coordinator} cancel-reservation " \
                                f"{place.reservation}"
                    print(f"hil: labgrid place {place.name} (for board {spec.board_id}) is acquired by "
                          f"{place.acquired_by}; waiting up to {deadline.remaining_s:.0f} s. If that run is gone, "
                          f"free it with: {free}",
                          file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Release what this process acquired and cancel its reservations; every step is tried."""
        errors = []
        for place in reversed(self._acquired):
            try:
                self.client.release(place, CLIENT_COMMAND_TIMEOUT_S)
            except HilError as error:
                errors.append(str(error))
        for token in self._tokens:
            try:
                self.client.cancel_reservation(token, CLIENT_COMMAND_TIMEOUT_S)
            except HilError as error:
                errors.append(str(error))
        self._acquired, self._tokens = [], []
        self._restore_sigterm()
        if errors:
            print("hil: labgrid release: " + "; ".join(errors), file=sys.stderr, flush=True)

    def _install_sigterm(self) -> None:
        """SIGTERM ends the process through KeyboardInterrupt, so stop() runs and the places are released.

        Only where SIGTERM would otherwise kill at once (a `hil` command): in a test run the plugin's interrupt
        latch already turns the first SIGTERM into KeyboardInterrupt and keeps later ones from cutting the JUnit
        and results files short, which a handler of ours would undo."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")

        self._previous_sigterm = signal.signal(signal.SIGTERM, interrupt)

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    # ---- the Bench interface
    def place_of(self, spec: BoardSpec) -> str:
        place = self._places.get(spec.board_id)
        if place is None:
            raise BoardNotFound(spec.board_id, "no labgrid place acquired for it (the bench is not started)")
        return place

    def board_identity(self, spec: BoardSpec) -> str:
        place = self._places.get(spec.board_id)
        return f"labgrid://{self.client.coordinator}/{place}" if place else super().board_identity(spec)

    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        place = self._state.get(self.place_of(spec))
        if place is None or not place.serial_ports:
            raise BoardNotFound(spec.board_id, f"labgrid place {self.place_of(spec)} exports no NetworkSerialPort "
                                               "(see docs/scale.md for the exporter configuration)")
        host, port = place.serial_ports[0]
        # as labgrid's own serial driver does: ser2net does not acknowledge modem-line changes on every port
        return f"rfc2217://{host}:{port}?ign_set_control"

    def attached(self) -> list[AttachedBoard]:
        try:
            places = self.client.places(COORDINATOR_TIMEOUT_S)
        except LabgridError as error:
            return [AttachedBoard(s.board_id, s.runtime, None, None, s.serial_number, "missing", str(error))
                    for s in self.specs]
        rows, listed = [], set()
        for spec in self.specs:
            matching = self._matching(spec, places)
            if not matching:
                rows.append(AttachedBoard(spec.board_id, spec.runtime, None, None, spec.serial_number, "missing",
                                          f"no place matches {_describe_filters(spec.extra['filters'])}"))
            for place in matching:
                listed.add(place.name)
                rows.append(self._row(spec.board_id, spec.runtime, spec.serial_number, place))
        for place in places.values():
            if place.name not in listed:
                rows.append(self._row("-", place.tags.get("runtime", "-"), None, place))
        return rows

    @staticmethod
    def _row(board_id: str, runtime: str, serial_number: str | None, place: PlaceState) -> AttachedBoard:
        port = ", ".join(f"rfc2217://{h}:{p}" for h, p in place.serial_ports) or None
        detail = [f"place {place.name}"]
        if place.acquired_by:
            detail.append(f"by {place.acquired_by}")
        if place.reservation:
            detail.append(f"reservation {place.reservation}")
        if place.power:
            detail.append("power " + ", ".join(p["cls"] for p in place.power))
        return AttachedBoard(board_id, runtime, port, None, serial_number, place.state, "; ".join(detail))

    def device_clock_domain(self, runtime: str) -> str:
        return self.config.clock_domains.get(runtime, "device")

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.config.tool_path:
            env["PATH"] = os.pathsep.join([*self.config.tool_path, env.get("PATH", "")])
        env.update(self.config.tool_env)
        return env

    def tool_requirements(self) -> list[ToolRequirement]:
        def coordinator_probe() -> str | None:
            try:
                places = self.client.places(COORDINATOR_TIMEOUT_S)
            except LabgridError:
                return None
            return f"{self.client.coordinator} reachable, {len(places)} places"

        tools = [ToolRequirement("labgrid-client", None, INSTALL_HINT,
                                 probe=lambda: self.client.version(COORDINATOR_TIMEOUT_S)),
                 ToolRequirement("labgrid coordinator", None,
                                 f"start labgrid-coordinator on {self.client.coordinator} (docs/scale.md)",
                                 probe=coordinator_probe)]
        return tools + self._flash_tool_requirements()

    def _flash_tool_requirements(self) -> list[ToolRequirement]:
        """One line per (flash tool, exporter host) the bench's Rust boards may use: its version asked there,
        through the place's resource, as a flash would run it. Read from the coordinator: nothing acquired."""
        try:
            places = self.client.places(COORDINATOR_TIMEOUT_S)
        except LabgridError:
            return []   # the coordinator line already says it is unreachable
        tools: dict[tuple[str, str], ToolRequirement] = {}
        for spec in self.specs:
            needed = FLASH_RESOURCES.get(spec.flash_method)
            if needed is None:
                continue
            for place in self._matching(spec, places):
                found = [r for r in place.resources if r.cls == needed]
                if not found:
                    tools[(spec.flash_method, place.name)] = ToolRequirement(
                        f"{spec.flash_method} via place {place.name}", None,
                        f"export a {needed[len('Network'):]} for place {place.name} on the host its board hangs "
                        "off (docs/scale.md)", probe=lambda: None)
                    continue
                host = ExporterToolHost(place.name, spec.board_id, lambda entry=found[0]: entry)
                argv = VERSION_ARGV[spec.flash_method]
                tools.setdefault((spec.flash_method, str(found[0].args.get("host"))), ToolRequirement(
                    f"{spec.flash_method} on {found[0].args.get('host')}", None,
                    FLASH_TOOL_HINTS[spec.flash_method] + f" ({found[0].args.get('host')}), reachable by ssh",
                    probe=lambda host=host, argv=argv: host.version(argv, REMOTE_VERSION_TIMEOUT_S,
                                                                      env=self.tool_env())))
        return list(tools.values())

    # ---- what a board gets from its place: flash tool host, power
    def _place_resource(self, spec: BoardSpec, cls: str, why: str) -> PlaceResource:
        place = self.place_of(spec)
        state = self._state.get(place)
        found = [r for r in (state.resources if state else []) if r.cls == cls]
        if not found:
            raise LabgridError(f"labgrid place {place} (board {spec.board_id}) has no {cls} resource, which {why} "
                               "needs: export it on the host the board hangs off (docs/scale.md)")
        return found[0]

    def flasher(self, spec: BoardSpec) -> Flasher:
        """The spec's flash tool, run on the exporter host of the place's probe (probe-rs) or USB (picotool)."""
        needed = FLASH_RESOURCES.get(spec.flash_method)
        if needed is None:
            raise ConfigError(spec.source or self.config.path, None, "flash",
                              f"board {spec.board_id}: flash: {spec.flash_method} cannot flash a labgrid place "
                              "(its tool must run where the board is): use "
                              + " or ".join(f"{method} (the place's {cls})" for method, cls in FLASH_RESOURCES.items()))
        place = self.place_of(spec)
        host = ExporterToolHost(place, spec.board_id,
                                lambda: self._place_resource(spec, needed, f"flash: {spec.flash_method}"))
        if spec.flash_method == "probe-rs" and not spec.probe:
            spec = dataclasses.replace(spec, probe=self._probe_of(spec, needed))
        return make_flasher(self, spec, tool_host=host)

    def _probe_of(self, spec: BoardSpec, cls: str) -> str | None:
        """probe-rs's VID:PID selector from the place's debugger (the bench file's `probe:` names one exactly)."""
        try:
            entry = self._place_resource(spec, cls, "flash: probe-rs")
        except LabgridError:
            return None   # the flash itself then says which resource the place lacks
        vid, pid = entry.args.get("vendor_id"), entry.args.get("model_id")
        return f"{vid:04x}:{pid:04x}" if isinstance(vid, int) and isinstance(pid, int) else None

    def power_switch(self, spec: BoardSpec) -> PowerSwitch | None:
        """The place's power resource through labgrid's power driver for it; None when the place has none."""
        place = self.place_of(spec)
        state = self._state.get(place)
        for entry in (state.resources if state else []):
            if entry.cls in POWER_DRIVERS:
                return LabgridPowerSwitch(place, spec.board_id, entry)
        return None

    def reset_line(self, spec: BoardSpec) -> ResetLine | None:
        return None   # a RUN pin wired to a host GPIO is a bench-file resource of the physical bench only

    def describe(self) -> dict:
        described = super().describe()
        described.update(coordinator=self.client.coordinator,
                         places={s.board_id: _describe_filters(s.extra["filters"]) for s in self.specs})
        return described
