"""Flash tools run on the exporter host a labgrid place's hardware hangs off, as labgrid's own drivers run theirs.

The image is copied there with labgrid's ManagedFile (into /var/cache/labgrid/<user>/<sha256>/ on that host, once
per content), and the tool runs through the resource's `command_prefix` (ssh to the resource's host through
labgrid's sshmanager: one master connection per host, the user's ssh configuration and keys). Which resource
carries the hardware depends on the tool:

- probe-rs: the place's `NetworkUSBDebugger` (the exporter's `USBDebugger`, e.g. a Raspberry Pi Debug Probe
  matched by its ID_SERIAL_SHORT), as labgrid's OpenOCDDriver uses it;
- picotool: the place's `NetworkUSBFlashableDevice` (the exporter's `USBFlashableDevice`: the Pico's own USB,
  matched by the port it is plugged into so it stays the same device in BOOTSEL), as FlashScriptDriver uses it.

Every step has a host-side deadline: ssh connection and copy through `call_within`, the tool through run_tool
(its local ssh process group is killed when the deadline passes). Killing the local ssh does not stop a command
on the other host (it has no terminal to lose), so the tool also runs under coreutils' `timeout` there, with the
same deadline.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Callable, Mapping, Sequence

from hil.deadline import Deadline
from hil.deploy.tool_host import ToolHost
from hil.errors import HilError, ToolFailed, ToolMissing
from hil.labgrid.lab_client import LabgridError, PlaceResource
from hil.labgrid.place_resources import call_within, labgrid_resource
from hil.process import ToolResult, run_tool

# The resource each flash method's tool needs on the board's place.
FLASH_RESOURCES = {"probe-rs": "NetworkUSBDebugger", "picotool": "NetworkUSBFlashableDevice"}
COMMAND_NOT_FOUND = 127      # what a POSIX shell (and `timeout`) on the exporter host answers for a missing tool
REMOTE_KILL_AFTER_S = 5      # a tool that ignores SIGTERM at its deadline gets SIGKILL this much later
SSH_FAILED = 255             # ssh itself failed (connection, authentication)


class ExporterToolHost(ToolHost):
    """The exporter host of one place's resource. `find_entry` returns that resource's coordinator entry or raises
    LabgridError naming the place, the board and the class it lacks (asked at first use, so a place that needs
    no flashing is usable without it)."""

    def __init__(self, place: str, board_id: str, find_entry: Callable[[], PlaceResource]):
        self.place = place
        self.board_id = board_id
        self._find_entry = find_entry
        self._resource = None

    def entry(self) -> PlaceResource:
        return self._find_entry()

    def describe(self) -> str:
        try:
            entry = self.entry()
        except LabgridError:
            return f"the exporter host of labgrid place {self.place}"
        return f"{entry.args.get('host')} (labgrid place {self.place}, {entry.cls} {entry.group}/{entry.name})"

    def _labgrid_resource(self):
        if self._resource is None:
            _, self._resource = labgrid_resource(f"hil-{self.place}", self.entry())
        return self._resource

    def command_prefix(self, timeout_s: float) -> list[str]:
        """labgrid's ssh prefix for the resource's host (connecting first, within timeout_s)."""
        resource = self._labgrid_resource()
        host = resource.host
        try:
            return list(call_within(lambda: resource.command_prefix, timeout_s, f"ssh connection to {host}"))
        except HilError:
            raise
        except Exception as error:  # labgrid's ExecutionError and friends: say which host and why
            raise LabgridError(f"board {self.board_id} (labgrid place {self.place}): cannot reach exporter host "
                               f"{host} over ssh, as labgrid does (see docs/scale.md): {error}") from None

    def stage(self, image: Path, timeout_s: float) -> str:
        from labgrid.util.managedfile import ManagedFile
        deadline = Deadline(timeout_s)
        resource = self._labgrid_resource()
        self.command_prefix(deadline.remaining_s)   # connects with its own deadline and clear error first
        # detect_nfs=False: always copy (an image is small), so what runs is the file just built, never a
        # same-named file the exporter host happens to see under this path
        managed = ManagedFile(str(image), resource, detect_nfs=False)
        try:
            call_within(managed.sync_to_resource, deadline.remaining_s, f"copying {image.name} to {resource.host}")
        except HilError:
            raise
        except Exception as error:
            raise LabgridError(f"board {self.board_id} (labgrid place {self.place}): copying {image} to "
                               f"{resource.host} failed: {error}") from None
        return managed.get_remote_path()

    def version(self, argv: Sequence[str], timeout_s: float, env: Mapping[str, str] | None = None) -> str | None:
        """The tool's version line on the exporter host; None when it or the host cannot be reached."""
        try:
            return super().version(argv, timeout_s, env)
        except HilError:
            return None

    def run(self, argv: Sequence[str], timeout_s: float, *, env: Mapping[str, str] | None = None,
            check: bool = True, install_hint: str = "",
            on_output_line: Callable[[str, str], None] | None = None) -> ToolResult:
        deadline = Deadline(timeout_s)
        prefix = self.command_prefix(deadline.remaining_s)
        bounded = ["timeout", f"--kill-after={REMOTE_KILL_AFTER_S}", f"{max(deadline.remaining_s, 0.1):.1f}", *argv]
        # ssh hands the words to the remote shell: quoted one by one, so each stays one argument there
        remote = [*prefix, *(shlex.quote(str(word)) for word in bounded)]
        host = self._labgrid_resource().host
        try:
            return run_tool(remote, max(deadline.remaining_s, 0.0), env=env, check=check,
                            on_output_line=on_output_line)
        except ToolFailed as error:
            if error.returncode == COMMAND_NOT_FOUND:
                raise ToolMissing(str(argv[0]), f"on the exporter host {host} of labgrid place {self.place}: "
                                                f"{install_hint}") from None
            raise
