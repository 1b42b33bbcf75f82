"""What the poller sees: the pods list every tick, the containers list only when something
changed, and the engine's events, followed between ticks (one that matters wakes the loop)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from symposium_tui.core import labels as L
from symposium_tui.core.backend import EventFeed, TaskspaceBackend
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import ContainerInfo, EngineEvent, PodInfo

WAKING_EVENTS = {"start", "died", "restart", "stop", "kill", "remove", "cleanup"}
# what changes the containers list (an exec, which the changes feed makes, or an attach does not)
LISTED_EVENTS = WAKING_EVENTS | {"create", "init", "pause", "unpause", "rename"}
CONTAINERS_REFRESH = 30.0  # seconds: the containers list is asked again at least this often


class Observer:
    def __init__(self, backend: TaskspaceBackend, clock: Callable[[], float]) -> None:
        self.backend, self.clock = backend, clock
        self._known: list[ContainerInfo] | None = None
        self._signature: tuple = ()
        self._containers_at = 0.0
        self._lock = threading.Lock()
        self._pending: list[EngineEvent] = []
        self._stream: EventFeed | None = None

    def pods(self) -> list[PodInfo]:
        return list(self.backend.observe(L.ALL_OURS, kinds=("pods",)).pods)

    def containers(self, pods: list[PodInfo], now: float) -> list[ContainerInfo]:
        """Asked again only when the pods list shows a change (a container added, removed,
        started or stopped), an engine event came in, or it is older than CONTAINERS_REFRESH:
        in a steady state a tick costs two calls, the pods list and stats. Only events that change
        the list count: the changes feed's reads (execs) do not."""
        signature = tuple(sorted((p.id, p.member_states) for p in pods))
        with self._lock:
            events = any(e.action in LISTED_EVENTS for e in self._pending)
        if self._known is None or signature != self._signature or events or \
                now - self._containers_at >= CONTAINERS_REFRESH:
            self._known = list(self.backend.observe(L.ALL_OURS, kinds=("containers",)).containers)
            self._signature, self._containers_at = signature, now
        return self._known

    def take_events(self) -> list[EngineEvent]:
        with self._lock:
            events, self._pending = self._pending, []
        return events

    def follow(self, stopped: threading.Event, wake: Callable[[], None]) -> None:
        """Until `stopped` is set (a thread's target): events as they come; reconnects with a
        growing delay when the engine goes away (the tick says it is unreachable)."""
        since: float | None = None
        delay = 0.5
        while not stopped.is_set():
            try:
                self._stream = self.backend.events(since)
                for event in self._stream:
                    delay = 0.5
                    since = event.time.timestamp() if event.time else self.clock()
                    with self._lock:
                        self._pending.append(event)
                    if event.action in WAKING_EVENTS:
                        wake()
            except SymposiumError:
                pass
            if stopped.wait(delay):
                return
            delay = min(delay * 2, 10.0)

    def close(self) -> None:
        stream = self._stream
        if stream is not None:
            stream.close()
