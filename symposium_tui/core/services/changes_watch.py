"""When the dashboard reads a taskspace's changes again for its CHANGES column.

Reading them runs git inside the taskspace (an exec, or a probe container when it is stopped):
a tenth of a second to two, too much for every taskspace on every tick. So a taskspace is read
when it was never read, or when its last activity (CPU, processes, traffic, an engine event:
the poller's) is at or after the moment its last read began, and then not sooner than SPACING
after that read ended; one at a time per host. The read itself is not activity: its exec events
are left out by the poller (Activity.own_read), so a quiet taskspace is read once and left alone.
Everything here runs on one thread (the dashboard's); the reads run in a worker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from symposium_tui.core.health import HealthState

if TYPE_CHECKING:
    from symposium_tui.core.services.changes import Changes
    from symposium_tui.core.services.poller import TaskspaceStatus

SPACING = 15.0  # seconds at least between the end of one read of a taskspace and the next
UNREADABLE = "?"  # its changes could not be read (the changes screen says why)


def cell(changes: Changes) -> str:
    """`+12 −3 · 2c` (large counts shortened: +1.2k), or "-" when there is nothing."""
    if not changes.any:
        return "-"
    text = f"+{_count(changes.added)} −{_count(changes.removed)}"
    return text + (f" · {_count(changes.commit_count)}c" if changes.commit_count else "")


def _count(number: int) -> str:
    if number < 1000:
        return str(number)
    if number < 10_000:
        return f"{number / 1000:.1f}k"
    if number < 1_000_000:
        return f"{number // 1000}k"
    return f"{number / 1_000_000:.1f}M"


def activity_time(stamp: str | None) -> float | None:
    """An ISO time (as TaskspaceStatus.last_activity says it) as Unix time; None when unknown."""
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Known:
    text: str  # the cell
    began: float  # Unix time the read that gave it began
    ended: float


class ChangesWatch:
    """One host's CHANGES cells, and which taskspace is due a read."""

    def __init__(self, spacing: float = SPACING) -> None:
        self.spacing = spacing
        self.known: dict[str, Known] = {}
        self.reading: str | None = None  # the taskspace being read now

    def text(self, taskspace: str) -> str | None:
        """Its cell; None until a read said it."""
        known = self.known.get(taskspace)
        return known.text if known is not None else None

    def next_due(self, statuses: Iterable[TaskspaceStatus], now: float) -> str | None:
        """The taskspace to read now, if any: never read ones first, running before stopped (a
        stopped one is read in a probe container, slower), then those that did something since
        their last read began."""
        if self.reading is not None:
            return None
        unread, stale = [], None
        for status in statuses:
            if status.health.state is HealthState.CREATING:
                continue  # its repository may not be there yet; its start makes it due after
            known = self.known.get(status.id)
            if known is None:
                unread.append(status)
            elif stale is None and self._moved(status, known, now):
                stale = status.id
        if unread:
            running = [s for s in unread if any(c.running for c in s.containers.values())]
            return (running or unread)[0].id
        return stale

    def _moved(self, status: TaskspaceStatus, known: Known, now: float) -> bool:
        if now - known.ended < self.spacing:
            return False
        active = activity_time(status.last_activity)
        # Stamps are whole seconds (rounded down): one in the second the read began counts.
        return active is not None and active >= math.floor(known.began)

    def began(self, taskspace: str) -> None:
        self.reading = taskspace

    def finished(self, taskspace: str, text: str, began: float, ended: float) -> None:
        """The column's read ended: its cell, and when it ran; the next may begin."""
        if self.reading == taskspace:
            self.reading = None
        self.record(taskspace, text, began, ended)

    def record(self, taskspace: str, text: str, began: float, ended: float) -> None:
        """A read ended (the column's, or the changes screen's): the newest read's cell stays."""
        known = self.known.get(taskspace)
        if known is None or began >= known.began:
            self.known[taskspace] = Known(text, began, ended)

    def forget_except(self, taskspaces: Iterable[str]) -> None:
        keep = set(taskspaces)
        self.known = {t: k for t, k in self.known.items() if t in keep}
