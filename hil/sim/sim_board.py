"""One simulated board as the supervisor runs it: its board process, its serial links and ports, its state,
its halts, and restarting its process when it dies."""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Callable

from hil.sim.board_process import BoardProcess
from hil.sim.link_model import LinkModel
from hil.sim.link_relay import LinkRelay
from hil.sim.pty_link import PtyLink
from hil.sim.reactor import Reactor
from hil.sim.sim_board_config import SimBoardConfig

RESTART_DELAY_S = 0.5          # a crashed board process comes back after this long
RESTART_WINDOW_S = 60.0        # ...but not more than MAX_RESTARTS_IN_WINDOW times within this window
MAX_RESTARTS_IN_WINDOW = 5
USB_LINK = "usb"


class SimBoard:
    def __init__(self, reactor: Reactor, config: SimBoardConfig, sim_dir: Path, link_model: LinkModel,
                 reenumerate_gap_s: float, on_change: Callable[[], None],
                 on_halt: Callable[["SimBoard", dict], None], log: Callable[[str], None]):
        self.reactor = reactor
        self.config = config
        self.board_id = config.board_id
        self.state_dir = Path(sim_dir) / "boards" / config.board_id
        self.reenumerate_gap_s = reenumerate_gap_s
        self.on_change = on_change
        self.on_halt = on_halt
        self.log = log
        self.relays: dict[str, LinkRelay] = {}
        for link in config.links:
            pty = PtyLink(Path(sim_dir) / f"{config.board_id}.{link}")
            touch = self._on_touch if link == USB_LINK else None
            self.relays[link] = LinkRelay(reactor, f"{config.board_id}.{link}", pty, link_model,
                                          on_touch=touch, on_port_change=on_change)
        self.process: BoardProcess | None = None
        self.process_state = "stopped"   # starting | ready | restarting | failed | stopped
        self.state = "unknown"           # as the board process reports: running | halted | bootsel | idle
        self.last_status: dict = {}
        self.exits: list[dict] = []
        self.restart_times_s: list[float] = []
        self.touches = 0
        self._stopping = False
        self._power_cycling = False
        self._reopen_timer = None

    # ---- lifecycle
    def start(self) -> None:
        for relay in self.relays.values():
            relay.open_port()
            self.reactor.add_pump(relay)
        self._start_process()

    def _start_process(self) -> None:
        self.process = BoardProcess(self.reactor, self.board_id, list(self.config.command), self.state_dir,
                                    self.config.options(), len(self.relays), self._on_event, self._on_exit)
        socks = self.process.start()
        for relay, sock in zip(self.relays.values(), socks):
            relay.attach_board(sock)
        self.process_state = "starting"
        self.state = "unknown"   # until the new process answers `status`
        self.log(f"{self.board_id}: started pid {self.process.pid}")
        self.on_change()

    def _on_exit(self, returncode: int) -> None:
        for relay in self.relays.values():
            relay.detach_board()
        if self._stopping:
            self.process_state = "stopped"
            return
        now_s = time.monotonic()
        power_cycled, self._power_cycling = self._power_cycling, False
        self.exits.append({"returncode": returncode, "host_time_s": time.time(), "power_cycle": power_cycled})
        self.restart_times_s = [t for t in self.restart_times_s if now_s - t < RESTART_WINDOW_S]
        self.log(f"{self.board_id}: board process exited with code {returncode}")
        # The device is gone: its USB port goes away until the new process is up (the UART stays, as a
        # Debug Probe's port does when its target resets).
        usb = self.relays.get(USB_LINK)
        if usb and usb.port_open:
            usb.close_port()
        if len(self.restart_times_s) >= MAX_RESTARTS_IN_WINDOW and not power_cycled:
            self.process_state = "failed"
            self.log(f"{self.board_id}: not restarted: {MAX_RESTARTS_IN_WINDOW} restarts within "
                     f"{RESTART_WINDOW_S:g} s")
            self.on_change()
            return
        self.process_state = "restarting"
        self.on_change()
        self.reactor.call_later(RESTART_DELAY_S, lambda: self._restart(counted=not power_cycled))

    def _restart(self, counted: bool = True) -> None:
        if self._stopping:
            return
        if counted:
            self.restart_times_s.append(time.monotonic())
        usb = self.relays.get(USB_LINK)
        if usb and not usb.port_open:
            usb.open_port()
        self._start_process()

    def power_cycle(self) -> bool:
        """Cut the board process (power off); _on_exit brings it back (power on) without counting a crash."""
        if self.process is None or not self.process.running:
            return False
        self._power_cycling = True
        self.log(f"{self.board_id}: power cycle")
        self.process.kill_group(signal.SIGKILL)
        return True

    def begin_stop(self) -> None:
        self._stopping = True
        if self.process:
            self.process.ask_to_exit()

    def close(self) -> None:
        for relay in self.relays.values():
            self.reactor.remove_pump(relay)
            relay.close()
        if self.process:
            self.process.close()
        self.process_state = "stopped"

    # ---- events and requests
    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "ready":
            # "ready" in `list` means the board has also told its state, so users never see "unknown" then.
            if self.process is not None and self.process.running:
                self.process.request({"cmd": "status"}, self._on_first_status)
        elif kind == "halt":
            self.state = "halted"
            self.on_halt(self, event)
            self.on_change()
        elif kind == "usb-reconnect":
            self.reenumerate()
        elif kind == "log":
            self.log(f"{self.board_id}: {event.get('text', '')}")

    def request(self, message: dict, on_reply: Callable[[dict], None]) -> None:
        """Forward a request to the board process; afterwards learn its state again (it may have changed)."""
        if self.process is None or self.process_state not in ("starting", "ready"):
            on_reply({"ok": False, "error": f"board {self.board_id} is {self.process_state}"})
            return

        def done(reply: dict) -> None:
            on_reply(reply)
            if message.get("cmd") != "status":
                self.refresh_status()
            else:
                self._note_status(reply)
        self.process.request(message, done)

    def refresh_status(self) -> None:
        if self.process is not None and self.process.running:
            self.process.request({"cmd": "status"}, self._note_status)

    def _on_first_status(self, reply: dict) -> None:
        if self.process_state != "starting":
            return
        self._note_status(reply)
        if not reply.get("ok"):
            self.log(f"{self.board_id}: status after ready failed: {reply.get('error')}")
        self.process_state = "ready"
        self.on_change()

    def _note_status(self, reply: dict) -> None:
        if not reply.get("ok"):
            return
        self.last_status = {k: v for k, v in reply.items() if k not in ("id", "ok")}
        state = reply.get("state")
        if isinstance(state, str) and state != self.state:
            self.state = state
            self._apply_bootsel()
            self.on_change()

    # ---- USB port behaviour
    def reenumerate(self) -> None:
        """The board's USB device re-enumerated: its port disappears, then comes back under the same name."""
        usb = self.relays.get(USB_LINK)
        if usb is None:
            return
        if usb.port_open:
            usb.close_port()
        if self._reopen_timer:
            self._reopen_timer.cancel()
        self._reopen_timer = self.reactor.call_later(self.reenumerate_gap_s, self._reopen_usb)

    def _reopen_usb(self) -> None:
        self._reopen_timer = None
        usb = self.relays.get(USB_LINK)
        # In BOOTSEL a Pico shows a mass-storage/PICOBOOT device, not its serial port.
        if usb and not usb.port_open and self.state != "bootsel" and not self._stopping:
            usb.open_port()

    def _apply_bootsel(self) -> None:
        usb = self.relays.get(USB_LINK)
        if usb is None:
            return
        if self.state == "bootsel" and usb.port_open:
            usb.close_port()
        elif self.state != "bootsel" and not usb.port_open and self._reopen_timer is None \
                and self.process_state in ("starting", "ready"):
            self._reopen_timer = self.reactor.call_later(self.reenumerate_gap_s, self._reopen_usb)

    def _on_touch(self) -> None:
        """A host opened the USB port at 1200 baud and closed it: ask the board to enter BOOTSEL."""
        self.touches += 1
        self.log(f"{self.board_id}: 1200-baud touch: sending bootsel")
        self.request({"cmd": "bootsel"}, lambda reply: None if reply.get("ok") else
                     self.log(f"{self.board_id}: bootsel after 1200-baud touch refused: {reply.get('error')}"))

    def poll_hosts(self) -> None:
        for relay in self.relays.values():
            relay.poll_host()

    # ---- description
    def describe(self) -> dict:
        usb = self.relays.get(USB_LINK)
        uart = self.relays.get("uart0")
        return {
            "id": self.board_id, "runtime": self.config.runtime, "serial_number": self.config.serial_number,
            "vid_pid": self.config.vid_pid, "probe": self.config.probe,
            "port": str(usb.pty.symlink_path) if usb else None, "pts": usb.pty.pts_path if usb else None,
            "uart_port": str(uart.pty.symlink_path) if uart else None,
            "uart_pts": uart.pty.pts_path if uart else None,
            "state": self.state, "process_state": self.process_state,
            "pid": self.process.pid if self.process and self.process.running else None,
            "restarts": len(self.exits), "touches": self.touches, "state_dir": str(self.state_dir),
            "status": self.last_status,
            "links": {name: {"host_attached": relay.host_attached, "to_board_bytes": relay.bytes_to_board,
                             "to_host_bytes": relay.bytes_to_host} for name, relay in self.relays.items()},
        }
