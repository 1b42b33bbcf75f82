"""When each taskspace last did something: CPU above the idle threshold, new processes, network
traffic beyond the health probes, or an engine event (start, exec, restart). Written to the
registry at most every ACTIVITY_WRITE_EVERY seconds per taskspace; cleanup goes by it."""

from __future__ import annotations

from datetime import datetime, timezone

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.context import LifecycleContext

ACTIVITY_EVENTS = {"start", "exec", "restart"}
ACTIVITY_WRITE_EVERY = 30.0  # seconds: last activity is written at most this often per taskspace


class Activity:
    def __init__(self, ctx: LifecycleContext, idle_cpu_percent: float, net_activity_bytes: int) -> None:
        self.ctx = ctx
        self.idle_cpu_percent = idle_cpu_percent
        self.net_activity_bytes = net_activity_bytes
        self._seen: dict[str, float] = {}
        self._written: dict[str, float] = {}

    def saw(self, taskspace: str, when: float) -> None:
        self._seen[taskspace] = max(self._seen.get(taskspace, 0), when)

    def record(self, groups: dict, samples: dict, now: float) -> None:
        """samples: taskspace -> role -> (this tick's sample, the previous raw sample)."""
        for taskspace, roles in samples.items():
            for sample, previous in roles.values():
                if sample is None:
                    continue
                busy = sample.cpu_percent >= self.idle_cpu_percent
                new_processes = previous is not None and sample.pids > previous.pids
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
