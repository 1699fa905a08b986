"""The abstract bench: the set of boards a run may use, and how to reach them.

The physical bench and the simulated bench implement this; nothing above this layer asks which one it has.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

from hil.bench.board_spec import BoardSpec
from hil.bench.recovery import PowerSwitch, ResetLine, power_switch_of, reset_line_of
from hil.deploy.flasher import Flasher
from hil.deploy.tool_host import LOCAL, ToolHost
from hil.errors import BoardNotFound, ConfigError
from hil.process import tool_version

TOOL_VERSION_TIMEOUT_S = 10.0


@dataclass
class AttachedBoard:
    """One line of `hil boards`: what the bench sees of a board right now."""

    board_id: str
    runtime: str
    port: str | None
    vid_pid: str | None
    serial_number: str | None
    state: str          # e.g. "present", "missing", "bootsel", "running", "halted"
    detail: str = ""


@dataclass
class ToolRequirement:
    """A tool a bench needs (for `hil doctor`): how to ask its version, and how to install it.

    `version_argv` is run with the bench's tool_env(); `probe` replaces it for things that are not commands
    (an npm package): it returns the version found, or None.
    """

    name: str
    version_argv: list[str] | None
    install_hint: str
    probe: Callable[[], str | None] | None = field(default=None, compare=False)


RUST_BUILD_INSTALL_HINT = ("rustup target add thumbv6m-none-eabi, or apt-get install rustc-web cargo-web "
                           "rust-web-src lld-16")


# The longest a bench may take to say whether a board's core stopped; callers pass what is left of their step.
HALT_INFO_TIMEOUT_S = 5.0


def port_identity(port: str) -> str:
    """One spelling for a serial port: the resolved path of a local device, the host:port of a network one."""
    if "://" in port:
        scheme, _, rest = port.partition("://")
        return f"{scheme.lower()}://{rest.split('?', 1)[0].rstrip('/').lower()}"
    return os.path.realpath(port)


class Bench(ABC):
    """A set of boards plus the means to reach them (ports, tools, clocks)."""

    name: str
    specs: list[BoardSpec]
    # `hil boards` starts a bench before listing it, unless listing needs nothing started (a shared bench's
    # listing must not take its boards from the people using them).
    lists_without_start: bool = False

    def start(self, timeout_s: float) -> None:
        """Bring the bench up (a physical bench has nothing to start)."""

    def stop(self) -> None:
        """Release whatever start() acquired."""

    def tool_env(self) -> dict[str, str]:
        """The environment external tools (probe-rs, picotool, mpremote) run with on this bench."""
        return dict(os.environ)

    @abstractmethod
    def locate_port(self, spec: BoardSpec, timeout_s: float) -> str:
        """The board's serial port as it is now (it may move after a reset); waits up to timeout_s."""

    @abstractmethod
    def attached(self) -> list[AttachedBoard]:
        """What is attached now, matched to this bench's boards (for `hil boards`)."""

    @abstractmethod
    def device_clock_domain(self, runtime: str) -> str:
        """Which clock times measured on a board of this runtime come from."""

    def tool_requirements(self) -> list[ToolRequirement]:
        """The external tools this bench's boards need (the Rust build toolchain is checked separately)."""
        return []

    def board_identity(self, spec: BoardSpec) -> str:
        """What makes this board the same board across runs and bench files: its USB serial number where known.

        The board pool locks boards by it, so two runs naming one Pico in different bench files never share it.
        """
        if spec.serial_number:
            return f"usb-serial:{spec.serial_number.casefold()}"   # matched case-blind, as the bench does
        if spec.port:
            # However the port is spelled (a by-id symlink, its /dev/ttyACM0 target, a relative path): one device.
            return f"port:{port_identity(spec.port)}"
        return f"{self.name}/{spec.board_id}"

    def board_facts(self, spec: BoardSpec) -> dict[str, str]:
        """What the bench itself knows about a board that the results should record (e.g. the images a simulated
        board runs). Empty where it knows nothing beyond the spec."""
        return {}
    def usb_port_of(self, spec: BoardSpec) -> str | None:
        """The USB port path ("1-1.2") the board is plugged into, running or in BOOTSEL; None where unknown."""
        return None

    def flasher(self, spec: BoardSpec) -> Flasher:
        """What loads firmware onto this board: the spec's flash method, its tool run on this host."""
        return make_flasher(self, spec)

    def power_switch(self, spec: BoardSpec) -> PowerSwitch | None:
        """What switches this board's power off and on (the bench file's `power:`), or None."""
        return power_switch_of(spec, self.tool_env())

    def reset_line(self, spec: BoardSpec) -> ResetLine | None:
        """A host-driven line on this board's RUN pin (the bench file's `reset:`), or None."""
        return reset_line_of(spec, self.tool_env())

    def halt_info(self, spec: BoardSpec, timeout_s: float = HALT_INFO_TIMEOUT_S) -> dict | None:
        """If the bench can see that a board's core stopped (panic, HardFault, lockup): reason, pc, message.

        None when the board runs or when this bench cannot tell (a physical board without a debugger attached).
        """
        return None

    def spec(self, board_id: str) -> BoardSpec:
        for spec in self.specs:
            if spec.board_id == board_id:
                return spec
        known = ", ".join(s.board_id for s in self.specs) or "none"
        raise BoardNotFound(board_id, f"not in bench {self.name!r} (its boards: {known})")

    def specs_for(self, runtime: str) -> list[BoardSpec]:
        return [s for s in self.specs if s.runtime == runtime]

    def describe(self) -> dict:
        """Bench metadata recorded with the results: its boards and which clock times each kind of figure."""
        return {"name": self.name, "kind": type(self).__name__,
                "boards": [{"id": s.board_id, "runtime": s.runtime, "serial_number": s.serial_number,
                            "port": s.port, "probe": s.probe, "flash_method": s.flash_method} for s in self.specs],
                "clock_domains": {"host": "host", **{runtime: self.device_clock_domain(runtime)
                                                     for runtime in sorted({s.runtime for s in self.specs})}}}

    def tool_versions(self, timeout_s: float = TOOL_VERSION_TIMEOUT_S) -> dict[str, str]:
        """The version of each tool this bench uses (those it can find), as recorded with the results."""
        versions = {}
        env = self.tool_env()
        for requirement in self.tool_requirements():
            found = (requirement.probe() if requirement.probe is not None
                     else tool_version(requirement.version_argv, timeout_s, env=env))
            if found:
                versions[requirement.name] = found
        return versions


def make_flasher(bench: Bench, spec: BoardSpec, tool_host: ToolHost = LOCAL) -> Flasher:
    """The flasher of the spec's flash method, its tool run with the bench's environment on `tool_host`."""
    env = bench.tool_env()

    def find_port(timeout_s: float) -> str:
        return bench.locate_port(spec, timeout_s)

    if spec.flash_method == "probe-rs":
        from hil.deploy.probe_rs_flasher import ProbeRsFlasher
        return ProbeRsFlasher(spec.board_id, spec.probe, env=env, tool_host=tool_host)
    if spec.flash_method == "picotool":
        from hil.deploy.picotool_flasher import PicotoolFlasher
        return PicotoolFlasher(spec.board_id, spec.serial_number, env=env, port_finder=find_port,
                               tool_host=tool_host)
    if spec.flash_method == "uf2" and tool_host is LOCAL:
        from hil.deploy.uf2_copy_flasher import Uf2CopyFlasher
        return Uf2CopyFlasher(spec.board_id, spec.serial_number, env=env, port_finder=find_port,
                              usb_port_finder=lambda: bench.usb_port_of(spec))
    where = "" if tool_host is LOCAL else f" on {tool_host.describe()}"
    raise ConfigError(spec.source or bench.name, None, "flash",
                      f"{spec.flash_method!r} cannot flash Rust firmware{where}")
