"""Talking to a labgrid coordinator: what places exist and who holds them (read through labgrid's own client
session), and reserve / acquire / release (through `labgrid-client`, exactly as a person would type them).

Every call has a host-side deadline. Nothing here knows about boards or scenarios.
"""
from __future__ import annotations

import asyncio
import getpass
import os
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from hil.errors import HilError, ToolFailed, seconds_text
from hil.process import run_tool

LABGRID_CLIENT = "labgrid-client"
INSTALL_HINT = "pip install 'pico-hil[labgrid]' (the labgrid client), and see docs/scale.md"
DEFAULT_COORDINATOR_PORT = 20408
TOKEN_LINE = re.compile(r"LG_TOKEN=(\S+)")
SESSION_CLOSE_TIMEOUT_S = 5.0


_LOOP_LOCK = threading.Lock()
_LOOP: asyncio.AbstractEventLoop | None = None


def _session_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process for every coordinator session: gRPC's asyncio layer binds to the first loop
    it runs on and fails on any later one, so the loop is kept (never closed) rather than made per call."""
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
    asyncio.set_event_loop(_LOOP)
    return _LOOP


class LabgridError(HilError):
    """The coordinator refused, could not be reached, or a place is not in the state a run needs."""


@dataclass(frozen=True)
class PlaceResource:
    """One exported resource a place matches, as the coordinator has it (what labgrid's RemotePlace expands)."""

    exporter: str
    group: str
    name: str
    cls: str                         # e.g. "NetworkUSBDebugger", "NetworkPowerPort"
    args: dict                       # the resource's attributes (host, path, ...)
    extra: dict                      # exporter facts (proxy, proxy_required)
    avail: bool


@dataclass
class PlaceState:
    """One place as the coordinator sees it now."""

    name: str
    tags: dict[str, str]
    acquired_by: str | None          # "host/user" of the holder, or None
    reservation: str | None          # token of the reservation the place is allocated to, or None
    serial_ports: list[tuple[str, int]] = field(default_factory=list)   # (host, tcp port) of NetworkSerialPorts
    power: list[dict] = field(default_factory=list)                     # power resources: cls and params
    resources: list[PlaceResource] = field(default_factory=list)        # every resource the place matches

    @property
    def state(self) -> str:
        if self.acquired_by:
            return "acquired"
        return "reserved" if self.reservation else "free"


def identity(env: Mapping[str, str] | None = None) -> str:
    """Who labgrid says holds what this process acquires: LG_HOSTNAME/LG_USERNAME, else host name and user."""
    env = os.environ if env is None else env
    return f"{env.get('LG_HOSTNAME') or socket.gethostname()}/{env.get('LG_USERNAME') or getpass.getuser()}"


def _client_command() -> str:
    """labgrid-client from this interpreter's environment (a venv need not be on PATH), else from PATH."""
    beside = Path(sys.executable).parent / LABGRID_CLIENT
    return str(beside) if beside.exists() else LABGRID_CLIENT


class LabClient:
    """One coordinator. `env` is the environment labgrid-client runs with (LG_USERNAME names the holder)."""

    def __init__(self, coordinator: str, env: Mapping[str, str] | None = None):
        self.coordinator = coordinator if ":" in coordinator else f"{coordinator}:{DEFAULT_COORDINATOR_PORT}"
        self.env = dict(os.environ if env is None else env)
        self.env["LG_COORDINATOR"] = self.coordinator

    # ---- reading: labgrid's client session, in a private event loop
    def _with_session(self, timeout_s: float, work):
        """Run `work(session, loop)` with a client session of the coordinator, opened within timeout_s."""
        try:
            from labgrid.remote.client import ClientSession
        except ImportError as error:
            raise LabgridError(f"the labgrid client is not installed ({error}): {INSTALL_HINT}") from None
        with _LOOP_LOCK:
            loop = _session_loop()
            session = ClientSession(self.coordinator, loop)
            try:
                loop.run_until_complete(asyncio.wait_for(session.start(), timeout_s))
            except (asyncio.TimeoutError, TimeoutError):
                raise LabgridError(f"labgrid coordinator {self.coordinator} did not answer within "
                                   f"{seconds_text(timeout_s)} s (is labgrid-coordinator running there? see "
                                   "docs/scale.md)") from None
            except Exception as error:  # grpc reports an unreachable coordinator in several ways
                raise LabgridError(f"labgrid coordinator {self.coordinator} unreachable: {error}") from None
            try:
                return work(session, loop)
            finally:
                try:
                    loop.run_until_complete(asyncio.wait_for(session.stop(), SESSION_CLOSE_TIMEOUT_S))
                    loop.run_until_complete(asyncio.wait_for(session.close(), SESSION_CLOSE_TIMEOUT_S))
                except Exception:  # closing a session that already failed: nothing left to release
                    pass

    def places(self, timeout_s: float) -> dict[str, PlaceState]:
        """Every place with its holder, reservation, serial ports and power resources."""
        return self._with_session(timeout_s, lambda session, loop: {
            name: self._place_state(session, place) for name, place in session.places.items()})

    def poll_reservations(self, tokens: list[str], timeout_s: float) -> dict[str, str | None]:
        """One poll of each reservation (which keeps it alive at the coordinator): token -> its allocated place,
        or None while it waits. A reservation that expired or became invalid is an error."""
        from labgrid.remote.common import Reservation, ReservationState
        from labgrid.remote.generated import labgrid_coordinator_pb2

        def work(session, loop):
            allocated: dict[str, str | None] = {}
            for token in tokens:
                request = labgrid_coordinator_pb2.PollReservationRequest(token=token)
                try:
                    response = loop.run_until_complete(asyncio.wait_for(session.stub.PollReservation(request),
                                                                        timeout_s))
                except Exception as error:
                    raise LabgridError(f"reservation {token}: {error}") from None
                reservation = Reservation.from_pb2(response.reservation)
                if reservation.state in (ReservationState.expired, ReservationState.invalid):
                    raise LabgridError(f"reservation {token} is {reservation.state.name}")
                allocated[token] = (reservation.allocations["main"][0] if reservation.state in
                                    (ReservationState.allocated, ReservationState.acquired) else None)
            return allocated

        return self._with_session(timeout_s, work)

    @staticmethod
    def _place_state(session, place) -> PlaceState:
        serial_ports, power, matched = [], [], []
        for exporter, groups in session.resources.items():
            for group_name, resources in groups.items():
                for resource_name, entry in resources.items():
                    if not place.hasmatch((exporter, group_name, entry.cls, resource_name)):
                        continue
                    matched.append(PlaceResource(exporter, group_name, resource_name, entry.cls, dict(entry.args),
                                                 dict(entry.extra or {}), bool(entry.avail)))
                    if entry.cls == "NetworkSerialPort" and entry.params.get("port"):
                        serial_ports.append((entry.params["host"], int(entry.params["port"])))
                    elif "Power" in entry.cls:
                        power.append({"cls": entry.cls, **entry.params})
        return PlaceState(name=place.name, tags=dict(place.tags), acquired_by=place.acquired,
                          reservation=place.reservation, serial_ports=serial_ports, power=power,
                          resources=matched)

    def version(self, timeout_s: float) -> str | None:
        """The installed labgrid client's version, or None when it is not installed."""
        try:
            import importlib.metadata
            return importlib.metadata.version("labgrid")
        except Exception:
            return None

    # ---- changing: labgrid-client, one command each
    def _client(self, args: list[str], timeout_s: float) -> str:
        argv = [_client_command(), "-x", self.coordinator, *args]
        try:
            return run_tool(argv, timeout_s, env=self.env, install_hint=INSTALL_HINT).stdout
        except ToolFailed as error:
            raise LabgridError(f"`{' '.join(argv)}` failed: {(error.stderr or error.stdout or '').strip()[-400:]}") \
                from None

    def reserve(self, filters: Mapping[str, str], timeout_s: float) -> str:
        """A new reservation for one place matching `filters` (name=<place> names one place); its token."""
        out = self._client(["reserve", "--shell", *(f"{k}={v}" for k, v in filters.items())], timeout_s)
        match = TOKEN_LINE.search(out)
        if not match:
            raise LabgridError(f"labgrid-client reserve printed no token: {out.strip()[-200:]}")
        return match.group(1)

    def acquire(self, place: str, timeout_s: float) -> None:
        self._client(["-p", place, "acquire"], timeout_s)

    def release(self, place: str, timeout_s: float) -> None:
        self._client(["-p", place, "release"], timeout_s)

    def cancel_reservation(self, token: str, timeout_s: float) -> None:
        self._client(["cancel-reservation", token], timeout_s)
