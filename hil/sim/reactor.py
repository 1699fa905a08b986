"""A small single-threaded event loop: file readiness callbacks, timers, and pumps polled by due time.

The supervisor runs everything (relays, board pipes, control clients, restarts) on one thread with this loop,
which keeps the relay free of locks and lets board processes be started with a parent-death signal (which
Linux ties to the thread that started them).
"""
from __future__ import annotations

import heapq
import itertools
import selectors
import time
from typing import Callable, Protocol

Callback = Callable[[], None]


class Pump(Protocol):
    def next_due_s(self) -> float | None: ...
    def pump(self, now_s: float) -> None: ...


class TimerHandle:
    def __init__(self, when_s: float, callback: Callback):
        self.when_s = when_s
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Reactor:
    MAX_WAIT_S = 0.5   # wake at least this often, so a stop request is never missed for long

    def __init__(self) -> None:
        # select() takes its timeout in microseconds; epoll and poll round it up to whole milliseconds, which
        # would deliver the link model's 1 ms frames up to a frame late. The supervisor watches a few dozen fds.
        self._selector = selectors.SelectSelector()
        self._callbacks: dict[int, list[Callback | None]] = {}   # fd -> [on_readable, on_writable]
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._sequence = itertools.count()
        self._pumps: list[Pump] = []
        self._stopping = False

    @staticmethod
    def now_s() -> float:
        return time.monotonic()

    # ---- file descriptors
    def _update(self, fd: int) -> None:
        on_read, on_write = self._callbacks.get(fd, [None, None])
        events = (selectors.EVENT_READ if on_read else 0) | (selectors.EVENT_WRITE if on_write else 0)
        registered = fd in self._selector.get_map()
        if not events:
            self._callbacks.pop(fd, None)
            if registered:
                self._selector.unregister(fd)
        elif registered:
            if self._selector.get_key(fd).events != events:
                self._selector.modify(fd, events)
        else:
            self._selector.register(fd, events)

    def set_reader(self, fd: int, callback: Callback | None) -> None:
        self._callbacks.setdefault(fd, [None, None])[0] = callback
        self._update(fd)

    def set_writer(self, fd: int, callback: Callback | None) -> None:
        self._callbacks.setdefault(fd, [None, None])[1] = callback
        self._update(fd)

    def forget(self, fd: int) -> None:
        """Stop watching `fd` (call before closing it)."""
        self._callbacks.pop(fd, None)
        if fd in self._selector.get_map():
            self._selector.unregister(fd)

    # ---- time
    def call_at(self, when_s: float, callback: Callback) -> TimerHandle:
        handle = TimerHandle(when_s, callback)
        heapq.heappush(self._timers, (when_s, next(self._sequence), handle))
        return handle

    def call_later(self, delay_s: float, callback: Callback) -> TimerHandle:
        return self.call_at(self.now_s() + delay_s, callback)

    def call_every(self, interval_s: float, callback: Callback) -> None:
        def tick() -> None:
            callback()
            self.call_later(interval_s, tick)
        self.call_later(interval_s, tick)

    def add_pump(self, pump: Pump) -> None:
        self._pumps.append(pump)

    def remove_pump(self, pump: Pump) -> None:
        if pump in self._pumps:
            self._pumps.remove(pump)

    # ---- running
    def stop(self) -> None:
        self._stopping = True

    def run(self) -> None:
        """Run until stop() is called."""
        self._stopping = False
        while not self._stopping:
            self.run_once()

    def run_once(self) -> None:
        now_s = self.now_s()
        due_s = now_s + self.MAX_WAIT_S
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if self._timers:
            due_s = min(due_s, self._timers[0][0])
        for pump in self._pumps:
            pump_due_s = pump.next_due_s()
            if pump_due_s is not None:
                due_s = min(due_s, pump_due_s)
        for key, mask in self._selector.select(timeout=max(0.0, due_s - now_s)):
            callbacks = self._callbacks.get(key.fd)
            if callbacks and mask & selectors.EVENT_READ and callbacks[0]:
                callbacks[0]()
            callbacks = self._callbacks.get(key.fd)   # the read callback may have dropped the fd
            if callbacks and mask & selectors.EVENT_WRITE and callbacks[1]:
                callbacks[1]()
        now_s = self.now_s()
        for pump in list(self._pumps):
            pump.pump(now_s)
        while self._timers and self._timers[0][0] <= now_s:
            _, _, handle = heapq.heappop(self._timers)
            if not handle.cancelled:
                handle.callback()

    def close(self) -> None:
        self._selector.close()
