"""labgrid resource objects for what an acquired place matches, and a deadline around labgrid calls that have none.

labgrid's RemotePlace expands a place into resources through a second coordinator session owned by its
RemotePlaceManager, which checks that the place is acquired by this process's LG_USERNAME. A run's places are
acquired by the run's owner and used by its pytest-xdist workers too, so the resources are made here from the
coordinator entries this bench already read (the same class and arguments RemotePlaceManager would use), and
labgrid's drivers and helpers (power drivers, ManagedFile, command_prefix over its sshmanager) work on them.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Callable, TypeVar

from hil.errors import DeadlineExpired
from hil.labgrid.lab_client import PlaceResource

T = TypeVar("T")


def call_within(work: Callable[[], T], timeout_s: float, what: str) -> T:
    """`work()` with a host-side deadline: labgrid's ssh, rsync and HTTP calls have none of their own.

    On expiry the caller gets DeadlineExpired at once; the call is left to finish in its daemon thread (its
    subprocesses are labgrid's, not ours to kill)."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread as is
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"labgrid: {what}", daemon=True)
    thread.start()
    thread.join(max(timeout_s, 0.0))
    if thread.is_alive():
        raise DeadlineExpired(what, timeout_s)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def labgrid_resource(target_name: str, entry: PlaceResource):
    """A labgrid Resource of the entry's class on a target of its own, as RemotePlaceManager makes it."""
    from labgrid import Target
    from labgrid.factory import target_factory
    from labgrid.remote.common import ResourceEntry
    from labgrid.resource.common import ManagedResource

    target = Target(target_name, env=None)
    resource = target_factory.make_resource(target, entry.cls, entry.name, dict(entry.args))
    resource.avail = entry.avail
    resource.extra = dict(entry.extra)
    if isinstance(resource, ManagedResource):
        # RemotePlaceManager.poll() refreshes managed resources from their coordinator entry on its own loop:
        # give it the entry as read, and a loop of its own (this bench's session loop is not its to run)
        resource._remote_entry = ResourceEntry({"cls": entry.cls, "avail": entry.avail,
                                                "params": {**entry.args, "extra": dict(entry.extra)}})
        if getattr(resource.manager, "loop", None) is None:
            resource.manager.loop = asyncio.new_event_loop()
    return target, resource
