"""When each taskspace last did something: CPU above the idle threshold, new processes, network
traffic beyond the health probes, or an engine event (start, exec, restart). Written to the
registry at most every ACTIVITY_WRITE_EVERY seconds per taskspace; cleanup goes by it.

The dashboard's own reads of a taskspace (git, for its CHANGES column and its changes screen) run
as an exec in its dev container: their exec events, and that container's CPU and new processes in
the ticks they ran in, are not the taskspace's doing; counted as activity, every read would call
for the next one (measured: the CHANGES column's git read was 7–9 % of a 0.5-CPU quota over a
half-second tick)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.context import LifecycleContext

ACTIVITY_EVENTS = {"start", "exec", "restart"}
ACTIVITY_WRITE_EVERY = 30.0  # seconds: last activity is written at most this often per taskspace
OWN_EXEC_SLACK = 2.0  # seconds either side of an own read: the engine's event times are its clock's
OWN_READS_KEPT = 60.0  # seconds an own read's window is kept after it ended (its events come later)
OWN_CPU_SLACK = 0.5  # seconds either side of an own read, for the ticks whose CPU it is part of
OWN_READ_ROLES = ("dev",)  # where an own read runs (a running taskspace's dev container; else a probe)


class Activity:
    def __init__(self, ctx: LifecycleContext, idle_cpu_percent: float, net_activity_bytes: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.idle_cpu_percent = idle_cpu_percent
        self.net_activity_bytes = net_activity_bytes
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._written: dict[str, float] = {}
        # taskspace -> when our own reads of it ran; written by the threads that read, read by
        # the poller's: under a lock.
        self._own: dict[str, list[_Window]] = {}
        self._own_lock = threading.Lock()
        self._recorded_at: float | None = None  # the last tick's time: the CPU of a tick is since then

    def saw(self, taskspace: str, when: float) -> None:
        self._seen[taskspace] = max(self._seen.get(taskspace, 0), when)

    def saw_event(self, action: str, taskspace: str, when: float) -> None:
        """An engine event of one of its containers; an exec of our own read is no activity."""
        if action not in ACTIVITY_EVENTS or not taskspace:
            return
        if action == "exec" and self.is_own_exec(taskspace, when):
            return
        self.saw(taskspace, when)

    @contextmanager
    def own_read(self, taskspace: str, roles: tuple[str, ...] = OWN_READ_ROLES) -> Iterator[None]:
        """Around a read of ours that execs in the taskspace: its exec events are not activity, nor
        the CPU and new processes of the containers it runs in (ROLES) in the ticks it ran in."""
        window = _Window(self.clock(), roles)
        with self._own_lock:
            kept = [w for w in self._own.get(taskspace, []) if w.ended is None or
                    window.began - w.ended < OWN_READS_KEPT]
            self._own[taskspace] = [*kept, window]
        try:
            yield
        finally:
            with self._own_lock:
                window.ended = self.clock()

    def is_own_exec(self, taskspace: str, when: float) -> bool:
        with self._own_lock:
            windows = list(self._own.get(taskspace, ()))
        return any(w.began - OWN_EXEC_SLACK <= when and (w.ended is None or when <= w.ended + OWN_EXEC_SLACK)
                   for w in windows)

    def _read_between(self, taskspace: str, since: float, until: float) -> set[str]:
        """The roles of the containers our reads of the taskspace ran in between the two times."""
        with self._own_lock:
            windows = list(self._own.get(taskspace, ()))
        return {role for w in windows if w.began - OWN_CPU_SLACK <= until and
                (w.ended is None or w.ended + OWN_CPU_SLACK >= since) for role in w.roles}

    def record(self, groups: dict, samples: dict, now: float) -> None:
        """samples: taskspace -> role -> (this tick's sample, the previous raw sample)."""
        since = self._recorded_at if self._recorded_at is not None else now
        self._recorded_at = now
        for taskspace, roles in samples.items():
            ours = self._read_between(taskspace, since, now) if self._own else set()
            for role, (sample, previous) in roles.items():
                if sample is None:
                    continue
                # Our own read ran in this container since the last tick: its CPU and processes
                # are partly ours (its traffic is not: an exec's output goes through the engine);
                # the containers it did not run in are untouched.
                own = role in ours
                busy = not own and sample.cpu_percent >= self.idle_cpu_percent
                new_processes = not own and previous is not None and sample.pids > previous.pids
                traffic = previous is not None and \
                    sample.net_bytes - (previous.net_in + previous.net_out) >= self.net_activity_bytes
                if busy or new_processes or traffic:
                    self.saw(taskspace, now)
        due = {t: when for t, when in self._seen.items() if t in groups and
               when - self._written.get(t, 0) >= ACTIVITY_WRITE_EVERY}
        if not due:
            return

        def change(entries: dict) -> None:
            for taskspace, when in due.items():
                if taskspace in entries:
                    stamp = datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="seconds")
                    if (entries[taskspace].get("last_activity") or "") < stamp:
                        entries[taskspace]["last_activity"] = stamp
        try:
            self.ctx.registry.update(change)
        except SymposiumError:
            return  # a read-only state dir must not stop the poller; the next tick tries again
        self._written.update(due)

    def iso(self, taskspace: str, entry: dict) -> str | None:
        """The later of what this process saw and what the registry holds."""
        seen = self._seen.get(taskspace)
        stored = entry.get("last_activity")
        if seen is None:
            return stored
        stamp = datetime.fromtimestamp(seen, timezone.utc).isoformat(timespec="seconds")
        return max(stamp, stored) if stored else stamp


class _Window:
    """When one of our own reads of a taskspace ran (ended: None while it runs)."""

    def __init__(self, began: float, roles: tuple[str, ...]) -> None:
        self.began = began
        self.roles = roles
        self.ended: float | None = None
