"""The agents of a list of taskspaces: their state and their signals, read cheaply and often.

A reader remembers, per taskspace, how far it read the signals file: a tick with nothing new costs
a stat of three files on this machine (no engine call), and a read is never more than a budget. On
another host the files are read through the engine, so at most every `remote_every` seconds. What
the first read finds is history, not news: only signals that came after it are `new` (notified,
printed by `monitor`). One taskspace's files never stop the others being read.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from symposium_tui.core import agent as A
from symposium_tui.core import labels as L
from symposium_tui.core.backend import AgentFiles, SignalCursor
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.context import LifecycleContext

if TYPE_CHECKING:
    from symposium_tui.core.services.lifecycle import Listing

BUDGET = 65536  # bytes of signals read per taskspace per look
KEPT = 50  # signals remembered per taskspace


@dataclass(frozen=True)
class Seen:
    """One taskspace as the lists see it: is its agent container running, what does its pod say
    the agent runs (labels)."""

    id: str
    running: bool
    labels: dict[str, str]


class AgentWatch:
    def __init__(self, ctx: LifecycleContext, clock: Callable[[], float] = time.time,
                 remote_every: float = 6.0) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.clock = clock
        self.remote_every = 0.0 if ctx.backend.local else remote_every
        self._cursor: dict[str, SignalCursor | None] = {}
        self._signals: dict[str, deque[A.Signal]] = {}
        self._files: dict[str, AgentFiles] = {}
        self._read_at: dict[str, float] = {}
        self.views: dict[str, A.AgentView] = {}

    def look(self, taskspaces: Iterable[Seen], registry: dict | None = None) -> list[tuple[str, A.Signal]]:
        """Read what changed; self.views holds every taskspace's view after. Returns the signals
        that arrived since the last look (none on the first look at a taskspace)."""
        now = self.clock()
        registry = self.ctx.registry.read() if registry is None else registry
        new: list[tuple[str, A.Signal]] = []
        views: dict[str, A.AgentView] = {}
        for seen in taskspaces:
            if seen.running and now - self._read_at.get(seen.id, -1e18) >= self.remote_every:
                new += [(seen.id, s) for s in self._read(seen.id, now)]
            spec = A.from_labels(seen.labels, self.ctx.settings.agent.idle_after)
            files = self._files.get(seen.id) if seen.running else None
            entry = registry.get(seen.id) or {}
            views[seen.id] = A.view(A.parse_status(files.status if files else None), seen.running,
                                    files.output_at if files else None, self._signals.get(seen.id, ()),
                                    _seen(entry), now, spec)
        for gone in set(self._cursor) - set(views):
            for book in (self._cursor, self._signals, self._files, self._read_at):
                book.pop(gone, None)
        self.views = views
        return new

    def _read(self, taskspace: str, now: float) -> list[A.Signal]:
        first = taskspace not in self._cursor
        try:
            files = self.backend.read_agent(taskspace, self._cursor.get(taskspace), BUDGET)
        except Exception:  # noqa: BLE001 - an engine's or a taskspace's answer, whatever it is
            return []  # keep what was read before; the next look tries again; the others go on
        self._read_at[taskspace] = now
        self._files[taskspace] = files
        self._cursor[taskspace] = files.cursor
        signals = A.parse_signals(files.signals)
        kept = self._signals.setdefault(taskspace, deque(maxlen=KEPT))
        if first:
            kept.extend(signals)
            return []
        if files.fresh:  # a new file (the first, or one kept short): its newest lines, some known
            newest = kept[-1].time if kept else float("-inf")
            kept.clear()
            kept.extend(signals)
            return [s for s in signals if s.time > newest]
        kept.extend(signals)
        return signals

    def recent(self, taskspace: str) -> tuple[A.Signal, ...]:
        return tuple(self._signals.get(taskspace, ()))


def _seen(entry: dict) -> float:
    value = entry.get("attention_seen")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def acknowledge(ctx: LifecycleContext, taskspace: str, view: A.AgentView | None) -> bool:
    """The person saw what the agent asked for (attached, or pressed the key): it is no longer
    marked. True when there was something to acknowledge."""
    if view is None or view.calling is None:
        return False
    when = view.calling.time

    def change(entries: dict) -> None:
        if taskspace in entries:
            entries[taskspace]["attention_seen"] = max(when, _seen(entries[taskspace]))
    ctx.registry.update(change)
    return True


def with_agents(ctx: LifecycleContext, listing: Listing) -> Listing:
    """The listing's taskspaces with their agents' state and signals (`ls`): a stat and a bounded
    read of the state files of each on this machine, one command in each running agent container
    on another."""
    labels = {t: p.labels for p in listing.pods if (t := L.taskspace_of(p.labels))}
    watch = AgentWatch(ctx, remote_every=0)
    watch.look([Seen(t.id, bool((a := t.containers.get("agent")) and a.running), labels.get(t.id, {}))
                for t in listing.taskspaces])
    return replace(listing, taskspaces=tuple(replace(t, agent=watch.views.get(t.id))
                                             for t in listing.taskspaces))


class OneAgent:
    """One taskspace's agent, for attach, send and signals."""

    def __init__(self, ctx: LifecycleContext, taskspace: str) -> None:
        from symposium_tui.core.ids import validate_id

        self.ctx = ctx
        self.taskspace = validate_id(taskspace)
        self.watch = AgentWatch(ctx, remote_every=0)
        self._seen: tuple[float, Seen] | None = None  # when its containers were last listed, and how

    def look(self, require_running: bool = False, fresh_for: float = 0.0) -> tuple[A.AgentView, list[A.Signal]]:
        """Its view now, and the signals that came since the last look (none the first time). Its
        containers are listed again unless they were less than `fresh_for` seconds ago (`signals
        -f`: the state files each second, the engine's list every ten)."""
        now = time.monotonic()
        if self._seen is not None and now - self._seen[0] < fresh_for and not require_running:
            new = self.watch.look([self._seen[1]])
            return self.watch.views[self.taskspace], [s for _, s in new]
        from symposium_tui.core.services.inventory import inventory

        found = inventory(self.ctx.backend, self.taskspace)
        if found.empty:
            raise SymposiumError(f"no taskspace {self.taskspace!r}")
        agent = next((c for c in found.containers if c.labels.get(L.ROLE) == "agent"), None)
        running = agent is not None and agent.running
        if require_running and not running:
            state = agent.state.value if agent is not None else "missing"
            raise SymposiumError(f"{self.taskspace}: its agent container is {state}",
                                 hint=f"symposium-tui start {self.taskspace}")
        seen = Seen(self.taskspace, running, found.pod.labels if found.pod else {})
        self._seen = (now, seen)
        new = self.watch.look([seen])
        return self.watch.views[self.taskspace], [s for _, s in new]

    def recent(self) -> tuple[A.Signal, ...]:
        return self.watch.recent(self.taskspace)

    def send(self, text: str, enter: bool = True) -> None:
        self.look(require_running=True)
        self.ctx.backend.send_to_agent(self.taskspace, text, enter)

    def attach_command(self, ssh_config: str) -> list[str]:
        """ssh with a terminal into its agent's session; what called for the person is seen."""
        view, _ = self.look(require_running=True)
        acknowledge(self.ctx, self.taskspace, view)
        return attach_argv(self.ctx, self.taskspace, ssh_config)


def attach_argv(ctx: LifecycleContext, taskspace: str, ssh_config: str) -> list[str]:
    """ssh with a terminal, running tmux's attach to the agent's session (A.SOCKET, A.SESSION;
    a moment's wait when its supervisor is making it again). Only constants after the
    destination: ssh hands them to the remote shell."""
    return ["ssh", "-F", ssh_config, "-t", "--", ctx.ssh_alias(taskspace, "agent"),
            "tmux -S /agent/state/tmux/agent.sock has-session -t agent 2>/dev/null || sleep 3; "
            "exec tmux -S /agent/state/tmux/agent.sock attach -t agent"]
