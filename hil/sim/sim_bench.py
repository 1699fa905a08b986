"""The simulated bench (`sim`): a bench like any other, whose boards are simulated by the supervisor.

`start()` connects to a supervisor already serving the sim dir (`hil sim serve`, or one another process started)
or starts one in the background. Several users on one host (pytest-xdist workers) share one supervisor:

- `<sim_dir>/users.lock`: every SimBench holds a shared lock on it from start() to stop(); the kernel drops it if
  the process dies.
- `<sim_dir>/start.lock`: taken exclusively around "is one running? if not, start it", so only one user starts.
- A supervisor started here runs with `--exit-when-unused`: it exits by itself once nobody has held users.lock
  for a few seconds (users that crashed included). `stop()` makes that immediate for the last user: after
  releasing its shared lock, a user that can take users.lock exclusively is the last one, and shuts it down.
- A supervisor started by `hil sim serve` belongs to the person who started it: SimBench never stops it.

The sim dir is `$HIL_SIM_DIR`, else `<cwd>/.hil/sim`.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import sys
from pathlib import Path

from hil.bench.bench import AttachedBoard, Bench, ToolRequirement
from hil.bench.board_spec import DEFAULT_FLASH_METHOD, BoardSpec, Runtime
from hil.bench.usb_ids import PID_RP2040_BOOTSEL, RASPBERRY_PI_VID, RP2040_BOOTSEL_USB_SERIAL, format_vid_pid
from hil.deadline import Deadline
from hil.errors import BoardNotFound, DeadlineExpired, HilError, PortVanished
from hil.process import run_tool
from hil.sim.control_client import ControlClient
from hil.sim.firmware_images import (HOW_TO_POINT, BenchFirmwareKey, SimFirmwareInputs, bench_firmware_keys,
                                      locate_image, locate_images)
from hil.sim.node_packages import INSTALL_COMMAND, ensure_installed, package_versions
from hil.sim.sim_board_config import SimBoardConfig, default_board_ids
from hil.sim.sim_errors import SimSupervisorUnavailable
from hil.sim.supervisor import SUPERVISOR_LOCK_NAME, USERS_LOCK_NAME, default_sim_dir
from hil.sim.uf2_volumes import MOUNTS_FILE, SYS_BLOCK_DIR, VOLUMES_DIR, usb_port_path

PACKAGE_PARENT = Path(__file__).resolve().parents[2]   # the folder holding the `hil` package (site-packages)
STANDINS_DIR = Path(__file__).resolve().parent / "standins"
START_LOCK_NAME = "start.lock"
STARTED_BY = "sim-bench"
NPM_PACKAGES = ("rp2040js",)
SIM_CLOCK_DOMAIN = "rp2040js-virtual"   # both runtimes run on the same emulated chip and its timer
CLOCK_DOMAINS = {runtime: SIM_CLOCK_DOMAIN for runtime in Runtime}
POLL_INTERVAL_S = 0.05
BOOTSEL_VID_PID = format_vid_pid(RASPBERRY_PI_VID, PID_RP2040_BOOTSEL)
CONTROL_TIMEOUT_S = 5.0
LAST_USER_WAIT_S = 0.5     # stop(): how long to try to become the exclusive (last) user
SUPERVISOR_EXIT_TIMEOUT_S = 15.0


def _flock_within(file, operation: int, deadline: Deadline, what: str) -> None:
    def locked() -> bool:
        try:
            fcntl.flock(file, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    if not deadline.poll(locked, POLL_INTERVAL_S):
        raise DeadlineExpired(what, deadline.timeout_s)


class SimBench(Bench):
    def __init__(self, name: str = "sim", sim_dir: str | os.PathLike | None = None, rust_count: int = 1,
                 micropython_count: int = 1, boards: list[tuple[str, str]] | None = None, link: str = "usb-fs",
                 board_commands: dict[str, list[str]] | None = None,
                 firmware_keys: dict[str, BenchFirmwareKey] | None = None, xip_cache_model: bool = False):
        self.name = name
        self.sim_dir = Path(sim_dir or default_sim_dir()).resolve()
        self.link = link
        self.board_commands = board_commands
        self.board_ids = boards if boards is not None else default_board_ids(rust_count, micropython_count)
        self.specs = [self._spec(board_id, runtime) for board_id, runtime in self.board_ids]
        self.client = ControlClient(self.sim_dir)
        self.firmware_keys = firmware_keys or {}
        self.xip_cache_model = xip_cache_model
        self.images: SimFirmwareInputs | None = None   # found and checked before starting a supervisor
        self.running_images: dict = {}               # as the running supervisor reports them
        self.supervisor_info: dict = {}
        self._users_file = None
        self._started_boards: set[str] = set()   # boards this bench asked the supervisor to start

    @classmethod
    def from_config(cls, config, sim_dir: str | os.PathLike | None = None) -> "SimBench":
        """The default sim bench (config None), or one from a bench file with `kind: sim` (a BenchConfig)."""
        if config is None:
            return cls(sim_dir=sim_dir)
        keys = bench_firmware_keys(config)
        bench = cls(name=config.name, sim_dir=sim_dir, link=config.options.get("link") or "usb-fs",
                    boards=[(spec.board_id, spec.runtime) for spec in config.specs], firmware_keys=keys)
        # Identity and ports come from the simulator; flashing method, source line and labels from the file.
        bench.specs = [dataclasses.replace(sim, flash_method=spec.flash_method, source=spec.source, extra=spec.extra)
                       for spec, sim in zip(config.specs, bench.specs)]
        return bench

    def _spec(self, board_id: str, runtime: str) -> BoardSpec:
        config = SimBoardConfig.create(board_id, runtime, command=[])
        uart = self.sim_dir / f"{board_id}.uart0" if "uart0" in config.links else None
        return BoardSpec(board_id=board_id, runtime=runtime, serial_number=config.serial_number,
                         vid_pid=config.vid_pid, port=str(self.sim_dir / f"{board_id}.usb"),
                         uart_port=str(uart) if uart else None, probe=config.probe,
                         flash_method=DEFAULT_FLASH_METHOD[runtime], source=f"sim bench {self.name!r}")

    # ---- lifecycle
    def start(self, timeout_s: float) -> None:
        try:
            self._start(Deadline(timeout_s))
        except BaseException:
            self.stop()   # give up this user's share (and the supervisor, if it was started for nobody else)
            raise

    def locate_images(self) -> SimFirmwareInputs:
        """The bootrom and (with a MicroPython board) the UF2 this bench's boards run, checked."""
        if self.images is None:
            self.images = locate_images(any(runtime == Runtime.MICROPYTHON for _, runtime in self.board_ids),
                                        self.firmware_keys)
        return self.images

    def _start(self, deadline: Deadline) -> None:
        # Here, not in the detached supervisor: the progress line and a missing node/npm reach the user.
        ensure_installed(timeout_s=deadline.remaining_s)
        self.sim_dir.mkdir(parents=True, exist_ok=True)
        if self._users_file is None:
            self._users_file = open(self.sim_dir / USERS_LOCK_NAME, "a+")
            _flock_within(self._users_file, fcntl.LOCK_SH, deadline, f"joining the simulated bench in {self.sim_dir}")
        with open(self.sim_dir / START_LOCK_NAME, "a+") as start_lock:
            _flock_within(start_lock, fcntl.LOCK_EX, deadline, f"starting the simulated bench in {self.sim_dir}")
            try:
                self.supervisor_info = self.client.ping(min(CONTROL_TIMEOUT_S, deadline.remaining_s))
            except (SimSupervisorUnavailable, DeadlineExpired):
                self.locate_images()   # a missing or wrong image is reported here, not from a detached supervisor
                self.start_supervisor(deadline.remaining_s)
                self.supervisor_info = self.client.ping(min(CONTROL_TIMEOUT_S, deadline.remaining_s))
        self._wait_ready(deadline)
        # What the running supervisor's boards run (it may be `hil sim serve`'s, found with other settings).
        self.running_images = self.client.firmware_images(min(CONTROL_TIMEOUT_S, max(deadline.remaining_s, 0.1)))

    def start_supervisor(self, timeout_s: float, started_by: str = STARTED_BY) -> None:
        """Start a detached supervisor for this bench's boards in its sim dir. `started_by` is recorded in
        bench.json: only a supervisor a SimBench started is stopped by a SimBench's last user."""
        argv = [sys.executable, "-m", "hil.sim.supervisor", "--detach", "--exit-when-unused",
                "--started-by", started_by, "--sim-dir", str(self.sim_dir), "--rust", "0", "--micropython", "0",
                "--link", self.link, "--lazy-boards"]
        for board_id, runtime in self.board_ids:
            argv += ["--board", f"{board_id}:{runtime}"]
        images = self.locate_images()
        argv += ["--bootrom", str(images.bootrom.path)]
        if images.micropython_uf2 is not None:
            argv += ["--micropython-uf2", str(images.micropython_uf2.path)]
        if self.xip_cache_model:
            argv.append("--xip-cache-model")
        if self.board_commands:
            argv += ["--board-command-json", json.dumps(self.board_commands)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
        self.sim_dir.mkdir(parents=True, exist_ok=True)
        run_tool(argv, timeout_s, env=env, cwd=self.sim_dir)

    def _wait_ready(self, deadline: Deadline, board_ids: list[str] | None = None) -> None:
        """Every board of this bench is served; those of `board_ids` (default: none) have a ready process."""
        not_ready: list[str] = []

        def all_ready() -> bool:
            boards = {b["id"]: b for b in self.client.list_boards(min(CONTROL_TIMEOUT_S, deadline.remaining_s))}
            missing = [s.board_id for s in self.specs if s.board_id not in boards]
            if missing:
                raise BoardNotFound(missing[0], f"the simulated bench running in {self.sim_dir} has no such board "
                                                f"(it has: {', '.join(boards) or 'none'}); stop it or use another "
                                                f"HIL_SIM_DIR")
            not_ready[:] = [b for b in board_ids or () if boards[b]["process_state"] != "ready"]
            failed = [b for b in not_ready if boards[b]["process_state"] == "failed"]
            if failed:
                log = Path(boards[failed[0]]["state_dir"]) / "board.log"
                raise BoardNotFound(failed[0], f"its board process keeps failing (see {log})")
            return not not_ready

        if not deadline.poll(all_ready, POLL_INTERVAL_S):
            raise DeadlineExpired(f"simulated boards {', '.join(not_ready)} becoming ready", deadline.timeout_s)

    def start_board(self, spec: BoardSpec, timeout_s: float) -> None:
        """Starts the board's process on first use (the supervisor starts none by itself) and waits until ready."""
        if spec.board_id in self._started_boards:
            return
        deadline = Deadline(timeout_s)
        reply = self.client.request({"cmd": "start", "board": spec.board_id},
                                    min(CONTROL_TIMEOUT_S, max(deadline.remaining_s, 0.1)))
        if not reply.get("ok"):
            raise BoardNotFound(spec.board_id, f"the simulated bench in {self.sim_dir} did not start it: "
                                               f"{reply.get('error')}")
        self._wait_ready(deadline, [spec.board_id])
        self._started_boards.add(spec.board_id)

    def stop(self) -> None:
        if self._users_file is None:
            return
        self._users_file.close()   # drops this user's shared lock
        self._users_file = None
        self.client.close()
        if self.supervisor_info.get("started_by") != STARTED_BY:
            return   # `hil sim serve`'s supervisor: not ours to stop
        with open(self.sim_dir / USERS_LOCK_NAME, "a+") as users:
            try:
                _flock_within(users, fcntl.LOCK_EX, Deadline(LAST_USER_WAIT_S), "becoming the last user")
            except DeadlineExpired:
                return   # others still use it; the last of them (or the supervisor itself) stops it
            self.shutdown_supervisor(SUPERVISOR_EXIT_TIMEOUT_S)

    def shutdown_supervisor(self, exit_timeout_s: float) -> None:
        """Ask this sim dir's supervisor to stop and wait up to exit_timeout_s until it has exited (the lock it
        holds while it lives is free). For whoever started it; stop() calls it for the last user."""
        try:
            with ControlClient(self.sim_dir) as client:
                client.request({"cmd": "shutdown"}, CONTROL_TIMEOUT_S)
        except (SimSupervisorUnavailable, DeadlineExpired):
            pass   # already gone
        with open(self.sim_dir / SUPERVISOR_LOCK_NAME, "a+") as lock:
            _flock_within(lock, fcntl.LOCK_SH, Deadline(exit_timeout_s), "the simulated bench supervisor exiting")

    # ---- the Bench interface
    def board_identity(self, spec: BoardSpec) -> str:
        # A simulated board exists once per simulator: two simulators on one host have distinct boards.
        return f"{Path(self.sim_dir).resolve()}/{spec.board_id}"

    def tool_requirements(self) -> list[ToolRequirement]:
        def npm_version(package: str):
            return lambda: package_versions().get(package)

        return [ToolRequirement("node", ["node", "--version"], "apt-get install nodejs npm (Node.js 18 or newer)"),
                *(ToolRequirement(f"npm {package}", None, INSTALL_COMMAND, npm_version(package))
                  for package in NPM_PACKAGES),
                ToolRequirement("probe-rs", ["probe-rs", "--version"], "ships with the project (hil/sim/standins)"),
                ToolRequirement("picotool", ["picotool", "version"], "ships with the project (hil/sim/standins)"),
                *(ToolRequirement(f"firmware image {kind}", None, HOW_TO_POINT, self._image_version(kind))
                  for kind in self._image_kinds())]

    def _image_kinds(self) -> list[str]:
        return ["bootrom"] + (["micropython_uf2"] if any(r == Runtime.MICROPYTHON for _, r in self.board_ids) else [])

    def _image_version(self, kind: str):
        def probe() -> str | None:
            try:
                return locate_image(kind, self.firmware_keys.get(kind)).version
            except HilError:
                return None
        return probe

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(p for p in (str(STANDINS_DIR), env.get("PATH")) if p)
        env["HIL_SIM_DIR"] = str(self.sim_dir)
        env["HIL_UF2_MOUNT_ROOTS"] = str(self.sim_dir / VOLUMES_DIR)   # the boards' RPI-RP2 drives (uf2_volumes.py)
        # where those drives hang off the USB tree, to tell two boards in BOOTSEL apart by port path
        env["HIL_UF2_SYS_BLOCK"] = str(self.sim_dir / SYS_BLOCK_DIR)
        env["HIL_UF2_PROC_MOUNTS"] = str(self.sim_dir / MOUNTS_FILE)
        return env

    def usb_port_of(self, spec: BoardSpec) -> str | None:
        """The simulated hub port the board hangs off (`1-1.N` for the supervisor's N-th board), running or in
        BOOTSEL, as uhubctl and the RPI-RP2 drives' sysfs paths number it."""
        try:
            ids = [b["id"] for b in self.client.list_boards(CONTROL_TIMEOUT_S)]
        except (SimSupervisorUnavailable, DeadlineExpired):
            return None
        return usb_port_path(ids.index(spec.board_id)) if spec.board_id in ids else None

    def halt_info(self, spec: BoardSpec, timeout_s: float = CONTROL_TIMEOUT_S) -> dict | None:
        """The emulator's own report that the board stopped (panic, HardFault, lockup, udf, bkpt): reason, pc,
        message. None while it runs, or when the simulator does not answer within timeout_s."""
        try:
            status = self.client.board_command(spec.board_id, "status", min(timeout_s, CONTROL_TIMEOUT_S))
        except HilError:
            return None   # no answer is not a halt: the caller's own deadline decides
        if status.get("state") != "halted":
            return None
        halt = status.get("halt") or {}
        return {"reason": halt.get("reason", "halted"), "pc": halt.get("pc"), "message": halt.get("message", "")}

    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        """The board's port symlink once its PTY exists (after a re-enumeration it comes back under the same
        name); waits up to timeout_s."""
        deadline = Deadline(timeout_s)
        self.start_board(spec, deadline.remaining_s)
        board: dict = {}

        def port_if_present() -> str | None:
            nonlocal board
            board = self.client.board(spec.board_id, min(CONTROL_TIMEOUT_S, max(deadline.remaining_s, 0.1)))
            return board["port"] if board["pts"] and os.path.exists(board["port"]) else None

        port = deadline.poll(port_if_present, POLL_INTERVAL_S)
        if port is None:
            raise PortVanished(board["port"], spec.board_id, timeout_s)
        return port

    def attached(self) -> list[AttachedBoard]:
        try:
            boards = {b["id"]: b for b in self.client.list_boards(CONTROL_TIMEOUT_S)}
        except (SimSupervisorUnavailable, DeadlineExpired) as err:
            return [AttachedBoard(s.board_id, s.runtime, None, s.vid_pid, s.serial_number, "missing", str(err))
                    for s in self.specs]
        result = []
        for spec in self.specs:
            board = boards.get(spec.board_id)
            if board is None:
                result.append(AttachedBoard(spec.board_id, spec.runtime, None, spec.vid_pid, spec.serial_number,
                                            "missing", f"not served by the supervisor in {self.sim_dir}"))
                continue
            state = board["state"] if board["process_state"] == "ready" else board["process_state"]
            if board["process_state"] == "stopped" and not board["pid"]:
                state = "not started"   # the supervisor starts a board's process on its first use
            detail = f"pts={board['pts'] or '-'}"
            if board.get("uart_port"):
                detail += f" uart={board['uart_port']}"
            if board.get("probe"):
                detail += f" probe={board['probe']}"
            vid_pid, serial_number = board["vid_pid"], board["serial_number"]
            if state == "bootsel":   # what the RP2040 boot ROM enumerates as, on every chip
                vid_pid, serial_number = BOOTSEL_VID_PID, RP2040_BOOTSEL_USB_SERIAL
                detail += f" flash-id={board['serial_number']}"
            result.append(AttachedBoard(spec.board_id, spec.runtime, board["port"] if board["pts"] else None,
                                        vid_pid, serial_number, state, detail))
        return result

    def device_clock_domain(self, runtime: str) -> str:
        return SIM_CLOCK_DOMAIN

    def describe(self) -> dict:
        described = super().describe()
        # `simulated` lets the results and the report label every figure of this bench as simulated.
        described.update(sim_dir=str(self.sim_dir), link=self.link, xip_cache_model=self.xip_cache_model,
                         simulated=True)
        described["firmware_images"] = self._image_facts() or {"error": "no firmware images found (yet)"}
        return described

    def _image_facts(self) -> dict:
        """The running supervisor's images once started, else the ones this bench would start it with."""
        if self.running_images:
            return self.running_images
        try:
            return self.locate_images().facts()
        except HilError:   # describing a bench must not fail; starting it reports the problem
            return {}

    def board_facts(self, spec: BoardSpec) -> dict[str, str]:
        """The images the simulated board runs: version and sha256 of each."""
        images = self._image_facts()
        kinds = ("bootrom", "micropython_uf2") if spec.runtime == Runtime.MICROPYTHON else ("bootrom",)
        return {kind: f"{images[kind]['version']} sha256:{images[kind]['sha256']}" for kind in kinds
                if kind in images}
