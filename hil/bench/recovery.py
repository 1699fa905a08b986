"""Reset and power control of a board: what brings back a Pico whose firmware stopped.

`picotool reboot -f` needs live firmware (the pico-sdk reset interface), so a panicked board without a debug probe
can only be brought back by its power or its RUN pin. A board entry may name
- `power: {uhubctl: {hub: "1-1", port: 3}}`: per-port USB power switching with uhubctl (a hub with per-port
  power switching; `uhubctl -l HUB -p PORT -a cycle -d OFF_S`);
- `reset: {gpioset: {chip: gpiochip0, line: 17}}`: the RP2040's RUN pin wired to a host GPIO, pulled low for a
  moment with libgpiod 2.x's `gpioset -c CHIP -t MS,0 LINE=0` (RUN is active low; the line is released after).

The bench decides what a board has (`Bench.power_switch(spec)`, `Bench.reset_line(spec)`: these bench-file
resources by default; a labgrid place's power resource on that bench). The means are tried in the order of how
little they disturb: probe reset, power cycle, RUN pin, picotool (`recovery_plan`); each says what it is, so a run
records which one it used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

from hil.bench.board_spec import BoardSpec
from hil.process import run_tool

UHUBCTL_INSTALL = "apt-get install uhubctl (and a hub with per-port power switching)"
GPIOSET_INSTALL = "apt-get install gpiod (libgpiod 2.x tools)"
DEFAULT_POWER_OFF_S = 1.0     # long enough for the Pico's 3V3 to drain so the RP2040 really restarts
DEFAULT_RESET_PULSE_MS = 100


class PowerSwitch(Protocol):
    """Something that can switch a board's power off and on."""

    def power_cycle(self, timeout_s: float) -> None: ...

    def describe(self) -> str: ...


class ResetLine(Protocol):
    """A host-driven line on the board's RUN pin."""

    def pulse_reset(self, timeout_s: float) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class UhubctlPowerSwitch:
    hub: str                       # uhubctl's location of the hub, e.g. "1-1"
    port: int
    off_s: float = DEFAULT_POWER_OFF_S
    env: Mapping[str, str] | None = None

    def argv(self) -> list[str]:
        return ["uhubctl", "-l", self.hub, "-p", str(self.port), "-a", "cycle", "-d", f"{self.off_s:g}"]

    def power_cycle(self, timeout_s: float) -> None:
        run_tool(self.argv(), timeout_s, env=self.env, install_hint=UHUBCTL_INSTALL)

    def describe(self) -> str:
        return f"power cycle (uhubctl hub {self.hub} port {self.port})"


@dataclass(frozen=True)
class GpiosetResetLine:
    chip: str                      # "gpiochip0"
    line: str                      # a line number or name
    pulse_ms: int = DEFAULT_RESET_PULSE_MS
    env: Mapping[str, str] | None = None

    def argv(self) -> list[str]:
        return ["gpioset", "-c", self.chip, "-t", f"{self.pulse_ms}ms,0", f"{self.line}=0"]

    def pulse_reset(self, timeout_s: float) -> None:
        run_tool(self.argv(), timeout_s, env=self.env, install_hint=GPIOSET_INSTALL)

    def describe(self) -> str:
        return f"RUN pin ({self.chip} line {self.line}, gpioset)"


def power_switch_of(spec: BoardSpec, env: Mapping[str, str] | None = None) -> UhubctlPowerSwitch | None:
    power = spec.extra.get("power") or {}
    uhubctl = power.get("uhubctl")
    if not uhubctl:
        return None
    return UhubctlPowerSwitch(str(uhubctl["hub"]), int(uhubctl["port"]),
                              float(uhubctl.get("off_s", DEFAULT_POWER_OFF_S)), env)


def reset_line_of(spec: BoardSpec, env: Mapping[str, str] | None = None) -> GpiosetResetLine | None:
    reset = spec.extra.get("reset") or {}
    gpioset = reset.get("gpioset")
    if not gpioset:
        return None
    return GpiosetResetLine(str(gpioset["chip"]), str(gpioset["line"]),
                            int(gpioset.get("pulse_ms", DEFAULT_RESET_PULSE_MS)), env)


@dataclass(frozen=True)
class RecoveryMeans:
    """One way to restart a board: what it is, whether it works on a halted core, and how to do it."""

    name: str                          # "probe reset", "power cycle (...)", ...
    works_when_halted: bool
    run: Callable[[float], None]       # timeout_s -> None; raises on failure


def recovery_plan(spec: BoardSpec, flasher_reset: Callable[[float], None] | None,
                  switch: PowerSwitch | None = None, line: ResetLine | None = None) -> list[RecoveryMeans]:
    """The means this board has, most gentle first: probe reset, power cycle, RUN pin, picotool reboot."""
    plan = []
    if spec.flash_method == "probe-rs" and flasher_reset is not None:
        plan.append(RecoveryMeans(f"probe reset (probe-rs, probe {spec.probe})", True, flasher_reset))
    if switch is not None:
        plan.append(RecoveryMeans(switch.describe(), True, switch.power_cycle))
    if line is not None:
        plan.append(RecoveryMeans(line.describe(), True, line.pulse_reset))
    if spec.flash_method == "picotool" and flasher_reset is not None:
        # `picotool reboot -f` asks the running firmware: useless once it has panicked
        plan.append(RecoveryMeans("picotool reboot (needs running firmware)", False, flasher_reset))
    return plan


def cannot_recover_reason(spec: BoardSpec, plan: list[RecoveryMeans]) -> str:
    """'' if some means restarts a halted board; otherwise why this board cannot be brought back."""
    if any(means.works_when_halted for means in plan):
        return ""
    return (f"board {spec.board_id} cannot be recovered after a panic: it is not flashed through a debug probe "
            f"(flash: {spec.flash_method}) and has no power switch (`power:` (uhubctl) in the bench file, or a power "
            "resource of its labgrid place) and no `reset:` (gpioset on RUN)"
            + ("; picotool reboot needs running firmware" if plan else ""))

