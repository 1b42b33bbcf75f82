"""Stop when idle, for the pollers that keep running (monitor, the dashboard).

Each tick says when every running taskspace is due (core.idle). One that is due is looked into in
a thread of its own (the tick never waits for it): who is in its containers (an SSH session, an
exec session) keeps it running, said in its status and asked again HOLD_RECHECK later; else it is
stopped, not removed, under its lock (another process stopping, starting or removing it meanwhile
wins), with a notice and a line in auto-stop.log. What stopped it is kept in the registry: `ls`
says why it is stopped, and it is not restarted by the repairs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import is_locked
from symposium_tui.core.idle import SESSIONS_SCRIPT, Sessions, parse_sessions, stop_time
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.taskspace import CONTAINER_UID
from symposium_tui.core.units import format_duration

HOLD_RECHECK = 15.0  # seconds before asking again who is in a due taskspace that was in use
FAILED_RECHECK = 60.0  # after a stop or a look that failed
LOG = "auto-stop.log"

if TYPE_CHECKING:
    from symposium_tui.core.services.lifecycle import Listing


@dataclass(frozen=True)
class Due:
    """A running taskspace past its idle time: its running containers and why it is due."""

    taskspace: str
    members: tuple[str, ...]
    after: float
    last: float
    seen_at: float  # the tick that found it due


class IdleStops:
    def __init__(self, ctx: LifecycleContext, wake: Callable[[], None],
                 own_read: Callable[[str, tuple[str, ...]], AbstractContextManager[None]],
                 clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.wake = wake
        self.own_read = own_read  # around our look: its execs are not the taskspace's activity
        self.clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, tuple[float, str]] = {}  # taskspace -> (look again at, who is in it)
        self._looking: set[str] = set()

    def held(self, taskspace: str) -> str:
        """Who keeps a due taskspace running ("": nobody seen)."""
        with self._lock:
            return self._held.get(taskspace, (0.0, ""))[1]

    def look(self, due: list[Due], now: float) -> None:
        """Start a look at each due taskspace not being looked at nor held until later."""
        names = {d.taskspace for d in due}
        with self._lock:
            for gone in set(self._held) - names:  # no longer due (active again, stopped, removed)
                del self._held[gone]
            todo = [d for d in due if d.taskspace not in self._looking
                    and now >= self._held.get(d.taskspace, (0.0, ""))[0]]
            self._looking.update(d.taskspace for d in todo)
        for item in todo:
            threading.Thread(target=self._stop_if_nobody, args=(item,), name=f"auto-stop-{item.taskspace}",
                             daemon=True).start()

    def busy(self) -> bool:
        with self._lock:
            return bool(self._looking)

    def _stop_if_nobody(self, due: Due) -> None:
        try:
            self._attempt(due)
        except SymposiumError as exc:
            self._hold(due.taskspace, FAILED_RECHECK, "")
            self.ctx.note(f"{due.taskspace}: could not be stopped when idle: {exc.message}")
        finally:
            with self._lock:
                self._looking.discard(due.taskspace)
            self.wake()

    def _attempt(self, due: Due) -> None:
        if self.ctx.is_busy(due.taskspace):  # being created, changed or removed: not now
            self._hold(due.taskspace, HOLD_RECHECK, "")
            return
        with self.own_read(due.taskspace, ("agent", "dev")):
            sessions = self.sessions(due.members)
        if sessions.ssh or sessions.execs:
            before = self.held(due.taskspace)
            self._hold(due.taskspace, HOLD_RECHECK, sessions.describe())
            if not before:
                self.ctx.log(LOG, self._record(due, "kept running", sessions.describe()))
            return
        from symposium_tui.core.services.lifecycle import Lifecycle

        idle = max(self.clock() - due.last, due.after)
        why = f"idle for {format_duration(idle)} (auto_stop after {format_duration(due.after)})"
        try:
            with self.ctx.taskspace_lock(due.taskspace):
                lifecycle = Lifecycle(self.ctx)
                found = lifecycle.require_pod(due.taskspace)
                if not any(c.running for c in found.containers):
                    return  # stopped meanwhile (another monitor, the person)
                lifecycle.stop(due.taskspace, why=why)
        except SymposiumError as exc:
            if self.ctx.is_busy(due.taskspace):  # someone else's turn (their lock): look again later
                self._hold(due.taskspace, HOLD_RECHECK, "")
                return
            raise
        self.ctx.log(LOG, self._record(due, "stopped", why))
        self.ctx.note(f"{due.taskspace} stopped: {why}; `symposium-tui start {due.taskspace}` (g in the dashboard) "
                      "brings it back")

    def sessions(self, members: tuple[str, ...]) -> Sessions:
        """Who is in these containers, each asked through the engine (not SSH: sshd may be what
        broke). A container that cannot be asked counts as in use: never stopped on a guess."""
        found = Sessions()
        for member in members:
            done = self.ctx.backend.run_in(member, ("/bin/sh", "-c", SESSIONS_SCRIPT), str(CONTAINER_UID))
            if done.exit_code != 0:
                raise SymposiumError(f"could not list the processes in {member} (exit code {done.exit_code})")
            found += parse_sessions(done.stdout)
        return found

    def _hold(self, taskspace: str, seconds: float, who: str) -> None:
        with self._lock:
            self._held[taskspace] = (self.clock() + seconds, who)

    def _record(self, due: Due, result: str, why: str) -> dict[str, object]:
        return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "taskspace": due.taskspace,
                "result": result, "why": why, "after": due.after, "due_at": due.last + due.after,
                "looked_at": due.seen_at,
                "last_sign": datetime.fromtimestamp(due.last, timezone.utc).isoformat(timespec="seconds"),
                "by": f"pid {os.getpid()}"}


def with_stop_times(ctx: LifecycleContext, listing: Listing, now: float | None = None) -> Listing:
    """The listing's running taskspaces with when auto_stop stops them (ls): from what the
    registry holds of their activity, their agents' output (with_agents read it) and the start
    of their containers; what a poller saw since its last write is up to ACTIVITY_WRITE_EVERY
    seconds newer."""
    policy = ctx.settings.auto_stop
    if not policy.anywhere:
        return listing
    now = time.time() if now is None else now
    rows = []
    for t in listing.taskspaces:
        running = [c for c in t.containers.values() if c.running]
        stops = None
        if running and t.status != "creating" and not ctx.is_busy(t.id):
            stops = stop_time(policy, t.tier, t.project, t.last_activity, t.agent, running, now)
        rows.append(replace(t, stops_at=stops))
    return replace(listing, taskspaces=tuple(rows))


def anyone_stops(ctx: LifecycleContext) -> bool:
    """Does a monitor or a dashboard stop this engine's idle taskspaces now?"""
    return is_locked(ctx.auto_stop_lock)
