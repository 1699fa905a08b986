"""The simulated bench's supervisor: starts one board process per simulated board, gives each serial link a PTY
(with the link model in between), keeps stable port symlinks, restarts board processes that die, records halts,
and serves the control socket `<sim_dir>/control.sock`. See docs/sim-bench.md.

    python -m hil.sim.supervisor --sim-dir DIR [--rust N] [--micropython N] [--bench FILE]
                                 [--board ID:RUNTIME ...] [--link usb-fs|none] [--detach] [--exit-when-unused]

Files in the sim dir: `control.sock`, `bench.json` (the boards, rewritten when ports or states change),
`<board_id>.usb` / `<board_id>.uart0` (port symlinks), `boards/<board_id>/` (each board's state folder and
`board.log`), `supervisor.lock` (held while a supervisor runs), `users.lock` (shared-locked by each user).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TextIO

from hil.bench.bench_file import load_bench_file
from hil.number_option import bounded_number
from hil.errors import ConfigError, HilError
from hil.sim.control_client import BENCH_JSON_NAME, CONTROL_SOCKET_NAME
from hil.sim.control_connection import ControlConnection
from hil.sim.firmware_images import (FIRMWARE_DIR_ENV, BenchFirmwareKey, SimFirmwareInputs, bench_firmware_keys,
                                      locate_images)
from hil.sim.link_model import LINK_NAMES, LinkModel
from hil.sim.reactor import Reactor
from hil.sim.sim_board import SimBoard
from hil.sim.sim_board_config import SimBoardConfig, default_board_ids
from hil.sim.sim_errors import SimSupervisorRunning
from hil.sim.uf2_volumes import POLL_INTERVAL_S as VOLUME_POLL_INTERVAL_S, VOLUMES_DIR, Uf2Volumes
from hil.sim.unix_socket import bind_unix

SUPERVISOR_LOCK_NAME = "supervisor.lock"
USERS_LOCK_NAME = "users.lock"
SUPERVISOR_LOG_NAME = "supervisor.log"
HOST_POLL_INTERVAL_S = 0.01       # how often closed ports are checked for a host opening them / a 1200-baud touch
UNUSED_CHECK_INTERVAL_S = 0.5
UNUSED_EXIT_AFTER_S = 3.0         # --exit-when-unused: exit after nobody has held users.lock for this long
BOARD_EXIT_GRACE_S = 3.0          # on shutdown, how long board processes get to exit by themselves
KILL_GRACE_S = 1.0
DEFAULT_REENUMERATE_GAP_S = 0.2   # how long a re-enumerating board's USB port is absent
DEFAULT_WAIT_HALT_TIMEOUT_S = 10.0
SUPERVISOR_COMMANDS = ("ping", "list", "halts", "wait_halt", "reconnect", "start", "power_cycle", "shutdown")


class Supervisor:
    def __init__(self, sim_dir: str | os.PathLike, boards: list[SimBoardConfig], link_model: LinkModel,
                 started_by: str = "supervisor", exit_when_unused: bool = False,
                 reenumerate_gap_s: float = DEFAULT_REENUMERATE_GAP_S, log_stream: TextIO | None = None,
                 images: SimFirmwareInputs | None = None, lazy_boards: bool = False):
        self.sim_dir = Path(sim_dir).resolve()
        self.images = images
        self.configs = boards
        self.link_model = link_model
        self.started_by = started_by
        self.exit_when_unused = exit_when_unused
        self.reenumerate_gap_s = reenumerate_gap_s
        # lazy: a board's process starts on its first `start` request, so a run starts only the boards it uses
        self.lazy_boards = lazy_boards
        self._running_boards: set[str] = set()
        self.log_stream = log_stream if log_stream is not None else sys.stderr
        self.reactor = Reactor()
        self.boards: dict[str, SimBoard] = {}
        self.halts: list[dict] = []
        self._halt_waiters: list[dict] = []
        self._clients: set[ControlConnection] = set()
        self._server: socket.socket | None = None
        self._lock_file = None
        self._users_file = None
        self._unused_since_s: float | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._bench_json_dirty = False
        self._started = False

    # ---- starting
    def start(self) -> None:
        self.sim_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        socket_path = self.sim_dir / CONTROL_SOCKET_NAME
        socket_path.unlink(missing_ok=True)   # stale: we hold the lock, so no other supervisor uses it
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bind_unix(self._server, socket_path)
        self._server.listen(64)
        self._server.setblocking(False)
        self.reactor.set_reader(self._server.fileno(), self._on_accept)
        for config in self.configs:
            board = SimBoard(self.reactor, config, self.sim_dir, self.link_model, self.reenumerate_gap_s,
                             on_change=self._mark_changed, on_halt=self._on_halt, log=self.log)
            self.boards[config.board_id] = board
        self._started = True
        if not self.lazy_boards:
            for board in self.boards.values():
                self._start_board(board)
        self.reactor.call_every(HOST_POLL_INTERVAL_S, self._poll_hosts)
        volumes = Uf2Volumes(self.sim_dir / VOLUMES_DIR, self.boards, self.log)   # the RPI-RP2 drive in BOOTSEL
        self.reactor.call_every(VOLUME_POLL_INTERVAL_S, volumes.poll)
        if self.exit_when_unused:
            self._users_file = open(self.sim_dir / USERS_LOCK_NAME, "a+")
            self.reactor.call_every(UNUSED_CHECK_INTERVAL_S, self._check_unused)
        self._write_bench_json()

    def _start_board(self, board: SimBoard) -> None:
        if board.board_id not in self._running_boards:
            self._running_boards.add(board.board_id)
            board.start()

    def _take_lock(self) -> None:
        self._lock_file = open(self.sim_dir / SUPERVISOR_LOCK_NAME, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            pid = self._lock_file.read().strip()
            self._lock_file.close()
            self._lock_file = None
            raise SimSupervisorRunning(str(self.sim_dir), pid) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM stop the loop (main thread only); the loop then shuts everything down."""
        self._wakeup = socket.socketpair()
        for end in self._wakeup:
            end.setblocking(False)
        signal.set_wakeup_fd(self._wakeup[1].fileno(), warn_on_full_buffer=False)
        self.reactor.set_reader(self._wakeup[0].fileno(), self._drain_wakeup)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, frame: self.reactor.stop())

    def _drain_wakeup(self) -> None:
        try:
            self._wakeup[0].recv(4096)
        except BlockingIOError:
            pass

    def ports(self) -> list[tuple[str, str, str]]:
        """(board_id, runtime, port symlink) per board, for `hil sim serve`."""
        return [(b.board_id, b.config.runtime, b.describe()["port"]) for b in self.boards.values()]

    def serve_forever(self) -> None:
        try:
            self.reactor.run()
        finally:
            self.shutdown()

    # ---- periodic work
    def _poll_hosts(self) -> None:
        for board in self.boards.values():
            if board.board_id in self._running_boards:
                board.poll_hosts()
        if self._bench_json_dirty:
            self._write_bench_json()

    def _check_unused(self) -> None:
        try:
            fcntl.flock(self._users_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._unused_since_s = None
            return
        now_s = time.monotonic()
        if self._unused_since_s is None:
            self._unused_since_s = now_s
        if now_s - self._unused_since_s >= UNUSED_EXIT_AFTER_S:
            self.log(f"no user for {UNUSED_EXIT_AFTER_S:g} s: exiting")
            self.reactor.stop()   # keep the exclusive lock until exit, so nobody joins a dying supervisor
            return
        fcntl.flock(self._users_file, fcntl.LOCK_UN)

    # ---- state publication
    def log(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} supervisor: {text}", file=self.log_stream, flush=True)

    def _mark_changed(self) -> None:
        self._bench_json_dirty = True

    def describe(self) -> dict:
        return {"version": 1, "supervisor_pid": os.getpid(), "started_by": self.started_by,
                "sim_dir": str(self.sim_dir), "control_socket": str(self.sim_dir / CONTROL_SOCKET_NAME),
                "link": self.link_model.describe(), "boards": [b.describe() for b in self.boards.values()],
                "firmware_images": self.images.facts() if self.images else {}}

    def _write_bench_json(self) -> None:
        self._bench_json_dirty = False
        path = self.sim_dir / BENCH_JSON_NAME
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.describe(), indent=2) + "\n")
        os.replace(tmp, path)

    # ---- halts
    def _on_halt(self, board: SimBoard, event: dict) -> None:
        halt = {"seq": len(self.halts) + 1, "board": board.board_id, "reason": event.get("reason", "unknown"),
                "pc": event.get("pc"), "message": event.get("message", ""), "host_time_s": time.time()}
        self.halts.append(halt)
        self.log(f"{board.board_id}: halt {halt['reason']} pc={halt['pc']} {halt['message']}")
        for waiter in list(self._halt_waiters):
            if waiter["board"] == board.board_id and halt["seq"] > waiter["after_seq"]:
                self._finish_halt_waiter(waiter, halt)

    def _finish_halt_waiter(self, waiter: dict, halt: dict | None) -> None:
        if waiter in self._halt_waiters:
            self._halt_waiters.remove(waiter)
            waiter["timer"].cancel()
            waiter["conn"].send({"id": waiter["id"], "ok": True, "halt": halt})

    # ---- control socket
    def _on_accept(self) -> None:
        try:
            sock, _ = self._server.accept()
        except BlockingIOError:
            return
        self._clients.add(ControlConnection(self.reactor, sock, self._on_request, self._clients.discard))

    def _on_request(self, conn: ControlConnection, message: dict) -> None:
        try:
            self._handle_request(conn, message)
        except (TypeError, ValueError, KeyError) as err:   # a malformed request must not stop the bench
            self.log(f"bad control request {message!r}: {err!r}")
            conn.send({"id": message.get("id"), "ok": False, "error": f"bad request: {err}"})

    def _handle_request(self, conn: ControlConnection, message: dict) -> None:
        request_id = message.get("id")
        cmd = message.get("cmd")

        def reply(fields: dict) -> None:
            conn.send({**fields, "id": request_id})

        board_id = message.get("board")
        board = self.boards.get(board_id) if board_id is not None else None
        if board_id is not None and board is None:
            reply({"ok": False, "error_kind": "unknown-board",
                   "error": f"no simulated board {board_id!r} (boards: {', '.join(self.boards) or 'none'})"})
            return
        if board is not None and cmd != "halts":
            self._start_board(board)   # lazy boards: any request about a board means someone uses it
        if cmd == "ping":
            reply({"ok": True, "pid": os.getpid(), "sim_dir": str(self.sim_dir), "started_by": self.started_by})
        elif cmd == "list":
            reply({"ok": True, "boards": [b.describe() for b in self.boards.values()],
                   "link": self.link_model.describe(), "firmware_images": self.images.facts() if self.images else {}})
        elif cmd == "halts":
            reply({"ok": True, "halts": [h for h in self.halts if board is None or h["board"] == board_id]})
        elif cmd == "wait_halt" and board is not None:
            self._wait_halt(conn, request_id, board, message)
        elif cmd == "start" and board is not None:
            self._start_board(board)   # idempotent: a running board stays as it is
            reply({"ok": True})
        elif cmd == "reconnect" and board is not None:
            board.reenumerate()
            reply({"ok": True})
        elif cmd == "power_cycle" and board is not None:
            # power off and on: the board process restarts from its saved flash (what uhubctl does to a Pico)
            reply({"ok": board.power_cycle()})
        elif cmd == "shutdown":
            reply({"ok": True})
            self.reactor.call_later(0.0, self.reactor.stop)
        elif board is not None and isinstance(cmd, str):
            forwarded = {k: v for k, v in message.items() if k not in ("id", "board")}
            board.request(forwarded, lambda board_reply: reply(
                {k: v for k, v in board_reply.items() if k != "id"}))
        else:
            needs_board = " (needs \"board\")" if cmd in SUPERVISOR_COMMANDS else ""
            reply({"ok": False, "error": f"unknown request {cmd!r}{needs_board}"})

    def _wait_halt(self, conn: ControlConnection, request_id, board: SimBoard, message: dict) -> None:
        after_seq = int(message.get("after_seq", 0))
        for halt in self.halts:
            if halt["board"] == board.board_id and halt["seq"] > after_seq:
                conn.send({"id": request_id, "ok": True, "halt": halt})
                return
        timeout_s = float(message.get("timeout_s", DEFAULT_WAIT_HALT_TIMEOUT_S))
        waiter = {"board": board.board_id, "after_seq": after_seq, "conn": conn, "id": request_id}
        waiter["timer"] = self.reactor.call_later(timeout_s, lambda: self._finish_halt_waiter(waiter, None))
        self._halt_waiters.append(waiter)

    # ---- stopping
    def shutdown(self) -> None:
        """Stop every board process (asking first, then killing its process group) and remove the sim files."""
        if not self._started:
            return
        self._started = False
        self.log("shutting down")
        for board in self.boards.values():
            board.begin_stop()
        deadline_s = time.monotonic() + BOARD_EXIT_GRACE_S
        for board in self.boards.values():
            if board.process and not board.process.reap(max(0.0, deadline_s - time.monotonic())):
                board.process.kill_group(signal.SIGTERM)
        for board in self.boards.values():
            if board.process and not board.process.reap(KILL_GRACE_S):
                board.process.kill_group(signal.SIGKILL)
                board.process.reap(KILL_GRACE_S)
            elif board.process:
                board.process.kill_group(signal.SIGKILL)   # anything the board process left in its group
        for board in self.boards.values():
            if board.board_id in self._running_boards:
                board.close()
        for conn in list(self._clients):
            conn.close()
        if self._server is not None:
            self.reactor.forget(self._server.fileno())
            self._server.close()
        (self.sim_dir / CONTROL_SOCKET_NAME).unlink(missing_ok=True)
        (self.sim_dir / BENCH_JSON_NAME).unlink(missing_ok=True)
        if self._wakeup:
            signal.set_wakeup_fd(-1)
            for end in self._wakeup:
                end.close()
        self.reactor.close()
        if self._lock_file:
            self._lock_file.close()   # releases supervisor.lock: waiters now know this supervisor is gone
        if self._users_file:
            self._users_file.close()


# ---- command line
def board_configs(rust_count: int, micropython_count: int, boards: list[str],
                  commands: dict[str, list[str]] | None, images: SimFirmwareInputs | None = None,
                  xip_cache_model: bool = False) -> list[SimBoardConfig]:
    """Board configs from counts (default ids) plus explicit `ID:RUNTIME` entries."""
    pairs = default_board_ids(rust_count, micropython_count)
    for entry in boards:
        board_id, _, runtime = entry.partition(":")
        pairs.append((board_id, runtime))
    seen: set[str] = set()
    configs = []
    for board_id, runtime in pairs:
        if board_id in seen:
            raise ValueError(f"board id {board_id!r} given twice")
        seen.add(board_id)
        configs.append(SimBoardConfig.create(
            board_id, runtime, (commands or {}).get(runtime),
            bootrom=str(images.bootrom.path) if images else "",
            firmware_uf2=str(images.micropython_uf2.path) if images and images.micropython_uf2 else "",
            xip_cache_model=xip_cache_model))
    return configs


DEFAULT_RUST_BOARDS = 1
DEFAULT_MICROPYTHON_BOARDS = 1
DEFAULT_LINK = "usb-fs"


MAX_BOARDS = 64   # one host simulates a classroom, not a data centre


def add_supervisor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim-dir", help="folder for ports, control socket and board state "
                                          "(default: $HIL_SIM_DIR or ./.hil/sim)")
    parser.add_argument("--bench", metavar="FILE", help="a bench file with kind: sim naming the boards (and link)")
    parser.add_argument("--rust", type=bounded_number(0, integer=True, maximum=MAX_BOARDS), metavar="N",
                        help=f"simulated Rust boards (default {DEFAULT_RUST_BOARDS}, or 0 with --bench)")
    parser.add_argument("--micropython", type=bounded_number(0, integer=True, maximum=MAX_BOARDS), metavar="N",
                        help=f"simulated MicroPython boards (default {DEFAULT_MICROPYTHON_BOARDS}, or 0 with --bench)")
    parser.add_argument("--board", action="append", default=[], metavar="ID:RUNTIME",
                        help="an extra board with an explicit id (repeatable)")
    parser.add_argument("--link", choices=LINK_NAMES,
                        help=f"serial link timing model (default: the bench file's, else {DEFAULT_LINK})")
    parser.add_argument("--frame-period-us", type=bounded_number(1), help="link model: frame period (default 1000)")
    parser.add_argument("--packets-per-frame", type=bounded_number(1, integer=True), help="link model: packets per frame (default 19)")
    parser.add_argument("--packet-size-bytes", type=bounded_number(1, integer=True), help="link model: packet size (default 64)")
    parser.add_argument("--reenumerate-gap-ms", type=bounded_number(0, maximum=60_000), default=DEFAULT_REENUMERATE_GAP_S * 1000,
                        help="how long a re-enumerating USB port is absent")
    parser.add_argument("--lazy-boards", action="store_true",
                        help="start a board's process only when a user asks for the board (control `start`)")
    parser.add_argument("--bootrom", metavar="FILE", help="the RP2040 bootrom image (default: the bench file's "
                                                          f"firmware.bootrom, then ${FIRMWARE_DIR_ENV}, then the cache)")
    parser.add_argument("--micropython-uf2", metavar="FILE",
                        help="the MicroPython RPI_PICO UF2 for MicroPython boards (same default order)")
    parser.add_argument("--xip-cache-model", action="store_true",
                        help="charge XIP cache misses as flash wait states in the boards' virtual time")
    parser.add_argument("--board-command-json", metavar="JSON",
                        help='board process argv prefix per runtime, e.g. {"micropython": ["python3", "b.py"]}')


def default_sim_dir() -> Path:
    return Path(os.environ.get("HIL_SIM_DIR") or Path.cwd() / ".hil" / "sim")


def link_model_from_args(args: argparse.Namespace, bench_link: str | None = None) -> LinkModel:
    model = LinkModel.from_name(args.link or bench_link or DEFAULT_LINK)
    if model.enabled and (args.frame_period_us or args.packets_per_frame or args.packet_size_bytes):
        model = LinkModel("usb-fs-custom",
                          (args.frame_period_us / 1e6) if args.frame_period_us else model.frame_period_s,
                          args.packets_per_frame or model.packets_per_frame,
                          args.packet_size_bytes or model.packet_size_bytes)
    return model


def supervisor_from_args(args: argparse.Namespace, started_by: str, log_stream: TextIO | None = None,
                         exit_when_unused: bool = False) -> Supervisor:
    commands = json.loads(args.board_command_json) if args.board_command_json else None
    sim_dir = Path(args.sim_dir) if args.sim_dir else default_sim_dir()
    boards = list(args.board)
    bench_link = None
    firmware_keys: dict[str, BenchFirmwareKey] = {}
    if getattr(args, "bench", None):
        config = load_bench_file(args.bench)
        if config.kind != "sim":
            raise ConfigError(args.bench, None, "kind", "the simulator serves only a bench file with kind: sim")
        boards = [f"{spec.board_id}:{spec.runtime}" for spec in config.specs] + boards
        bench_link = config.options.get("link")
        firmware_keys = bench_firmware_keys(config)
    with_bench = bool(getattr(args, "bench", None))   # a bench file names all the boards unless counts are given
    rust = args.rust if args.rust is not None else (0 if with_bench else DEFAULT_RUST_BOARDS)
    micropython = args.micropython if args.micropython is not None else (0 if with_bench
                                                                          else DEFAULT_MICROPYTHON_BOARDS)
    # Command-line images win over the bench file's; each is checked like one found by the lookup.
    if getattr(args, "bootrom", None):
        firmware_keys["bootrom"] = BenchFirmwareKey(str(Path(args.bootrom).resolve()), "--bootrom", None)
    if getattr(args, "micropython_uf2", None):
        firmware_keys["micropython_uf2"] = BenchFirmwareKey(str(Path(args.micropython_uf2).resolve()),
                                                            "--micropython-uf2", None)
    configs = board_configs(rust, micropython, boards, commands)
    images = locate_images(any(c.runtime == "micropython" for c in configs), firmware_keys)
    return Supervisor(sim_dir, board_configs(rust, micropython, boards, commands, images,
                                             getattr(args, "xip_cache_model", False)),
                      link_model_from_args(args, bench_link), started_by=started_by,
                      exit_when_unused=exit_when_unused, reenumerate_gap_s=args.reenumerate_gap_ms / 1000,
                      log_stream=log_stream, images=images, lazy_boards=getattr(args, "lazy_boards", False))


def _detach(sim_dir: Path) -> int | None:
    """Fork; the parent waits for the child's start report and returns an exit code, the child returns None.

    The child runs in its own session with output in supervisor.log, so a caller (SimBench) gets a supervisor
    that is not its child and outlives it.
    """
    sim_dir.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid > 0:
        os.close(write_fd)
        report = b""
        while chunk := os.read(read_fd, 4096):
            report += chunk
        os.close(read_fd)
        os.waitpid(pid, 0)   # the intermediate child exits at once
        text = report.decode(errors="replace").strip()
        if text.startswith("started"):
            print(text, flush=True)
            return 0
        print(text or f"supervisor exited during start; see {sim_dir / SUPERVISOR_LOG_NAME}", file=sys.stderr)
        return 1
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:   # the grandchild is re-parented to init, so nobody has to reap it
        os._exit(0)
    log_fd = os.open(sim_dir / SUPERVISOR_LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(null_fd)
    os.close(log_fd)
    os.environ["HIL_SIM_REPORT_FD"] = str(write_fd)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.sim.supervisor", description=__doc__.split("\n")[0])
    add_supervisor_arguments(parser)
    parser.add_argument("--detach", action="store_true", help="run in the background; exit once it serves")
    parser.add_argument("--exit-when-unused", action="store_true",
                        help=f"exit when no process has held {USERS_LOCK_NAME} for {UNUSED_EXIT_AFTER_S:g} s")
    parser.add_argument("--started-by", default="supervisor", help="recorded in bench.json")
    args = parser.parse_args(argv)
    sim_dir = Path(args.sim_dir) if args.sim_dir else default_sim_dir()
    if args.detach:
        code = _detach(sim_dir)
        if code is not None:
            return code
    report_fd = int(os.environ.pop("HIL_SIM_REPORT_FD", "-1"))

    def report(text: str) -> None:
        if report_fd >= 0:
            os.write(report_fd, (text + "\n").encode())
            os.close(report_fd)

    try:
        supervisor = supervisor_from_args(args, args.started_by, exit_when_unused=args.exit_when_unused)
        supervisor.install_signal_handlers()
        supervisor.start()
    except (HilError, ValueError, OSError) as err:
        print(f"supervisor: {err}", file=sys.stderr, flush=True)
        report(f"error: {err}")
        return 1
    report(f"started pid={os.getpid()} sim_dir={supervisor.sim_dir}")
    for board_id, runtime, port in supervisor.ports():
        supervisor.log(f"{board_id} {runtime} {port}")
    supervisor.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
