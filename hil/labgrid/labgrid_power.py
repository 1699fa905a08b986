"""Power cycling a board through its labgrid place's power resource, with labgrid's own power drivers.

The place's resource is bound to a labgrid Target (hil.labgrid.place_resources) and switched by the driver labgrid
has for it: NetworkPowerDriver for a NetworkPowerPort (a PDU or relay over the network, any of labgrid's power
backends, e.g. `simplerest`), USBPowerDriver for a NetworkUSBPowerPort (uhubctl on the exporter host, through the
resource's ssh command prefix), SiSPMPowerDriver for a NetworkSiSPMPowerPort. It is a PowerSwitch
(hil.bench.recovery), so the board's recovery plan uses it like a bench file's uhubctl port.
"""
from __future__ import annotations

from hil.bench.recovery import DEFAULT_POWER_OFF_S
from hil.errors import HilError
from hil.labgrid.lab_client import LabgridError, PlaceResource
from hil.labgrid.place_resources import call_within, labgrid_resource

POWER_DRIVERS = {"NetworkPowerPort": "NetworkPowerDriver", "NetworkUSBPowerPort": "USBPowerDriver",
                 "NetworkSiSPMPowerPort": "SiSPMPowerDriver"}


class LabgridPowerSwitch:
    def __init__(self, place: str, board_id: str, entry: PlaceResource, off_s: float = DEFAULT_POWER_OFF_S):
        if entry.cls not in POWER_DRIVERS:
            raise LabgridError(f"labgrid place {place} (board {board_id}): no power driver for {entry.cls} "
                               f"(supported: {', '.join(POWER_DRIVERS)})")
        self.place = place
        self.board_id = board_id
        self.entry = entry
        self.off_s = off_s
        self._driver = None

    @property
    def driver_name(self) -> str:
        return POWER_DRIVERS[self.entry.cls]

    def describe(self) -> str:
        return (f"power cycle (labgrid place {self.place}: {self.entry.cls} {self.entry.group}/{self.entry.name}, "
                f"{self.driver_name})")

    def _active_driver(self):
        if self._driver is None:
            from labgrid.factory import target_factory
            target, _ = labgrid_resource(f"hil-power-{self.place}", self.entry)
            driver = target_factory.make_driver(target, self.driver_name, "power", {"delay": float(self.off_s)})
            target.activate(driver)
            self._driver = driver
        return self._driver

    def power_cycle(self, timeout_s: float) -> None:
        """Off, `off_s` seconds, on: within timeout_s (labgrid's power backends and uhubctl have no deadline)."""
        what = f"power cycle of labgrid place {self.place} (board {self.board_id}) through {self.entry.cls}"
        try:
            call_within(lambda: self._active_driver().cycle(), timeout_s, what)
        except HilError:
            raise
        except Exception as error:  # a backend's HTTP error, uhubctl's exit code, ...: name the place
            raise LabgridError(f"{what} failed: {type(error).__name__}: {error}") from None
