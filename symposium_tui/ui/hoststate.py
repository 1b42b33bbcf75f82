"""One engine host as the dashboard knows it: its services once connected, its last snapshot,
and the words the status line uses for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from dataclasses import dataclass, field

from symposium_tui.core.restarts import RestartRecord
from symposium_tui.core.services.changes_watch import ChangesWatch
from symposium_tui.core.services.poller import Snapshot
from symposium_tui.core.stats import StatsSample
from symposium_tui.session import HostSession


@dataclass
class HostState:
    """One engine host as the dashboard knows it. Only the UI thread writes it, from the messages
    its host thread posts (EngineConnected, EngineUnreachable, SnapshotTaken); screens read it,
    never the poller's own structures."""

    name: str
    services: HostSession | None = None  # from EngineConnected
    snapshot: Snapshot | None = None
    stats: Mapping[str, Sequence[StatsSample]] = field(default_factory=dict)  # container -> its history
    restarts: Mapping[str, Sequence[RestartRecord]] = field(default_factory=dict)  # taskspace -> its log
    cells: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # taskspace -> its row's cells (poller's)
    text: str = "connecting to podman…"
    connected_text: str = ""
    ok: bool = True
    answered_at: float = 0.0  # monotonic time of its last snapshot
    changes: ChangesWatch = field(default_factory=ChangesWatch)  # its CHANGES cells, read in a worker

    def slow_for(self, now: float, interval: float) -> float | None:
        """Seconds since the last answer, when that is far longer than a tick takes."""
        if self.services is None or not self.answered_at:
            return None
        waited = now - self.answered_at
        return waited if waited > max(3 * interval, 5.0) else None

    def word(self) -> str:
        """What the host switcher says of it."""
        if not self.ok:
            return self.text
        if self.services is None:
            return "connecting…"
        count = len(self.snapshot.taskspaces) if self.snapshot else 0
        return f"{plural(count, 'taskspace')} · {self.connected_text}"


def hosts_line(hosts: Mapping[str, HostState], view: str | None, interval: float, now: float) -> tuple[str, bool]:
    """The status line's words: the shown host's engine, or every host's state in a few words;
    and whether all is well."""
    if view is not None and len(hosts) <= 1:
        state = hosts[view]
        return state.text, state.ok
    parts, ok = [], True
    for state in hosts.values():
        slow = state.slow_for(now, interval) if state.ok else None
        if slow is not None:
            word = f"slow: no answer for {slow:.0f} s"
        elif not state.ok:
            word = f"unreachable — {short_reason(state.text)}"
        elif state.services is None:
            word = "connecting…"
        else:
            word = f"ok, {plural(len(state.snapshot.taskspaces) if state.snapshot else 0, 'taskspace')}"
        ok = ok and state.ok and slow is None
        mark = "▶ " if state.name == view else ""
        parts.append(f"{mark}{state.name}: {word}")
    return ("all hosts · " if view is None else "") + "  │  ".join(parts), ok


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def short_reason(text: str) -> str:
    """The last clause of an unreachable message ("... port 22: Connection refused (retrying)"):
    what fits in a status line beside other hosts; the switcher (H) shows the whole of it."""
    text = text.removesuffix(" (retrying)")
    return text.rsplit(": ", 1)[-1].strip() or text
