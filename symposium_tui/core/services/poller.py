"""One poller for every taskspace: the loop, and the health that follows from each tick.

Each tick reads pods, containers and stats of ALL taskspaces in three engine calls, whatever their
number; SSH ports are probed on 127.0.0.1 in parallel. Between ticks the engine's event stream is
followed, and a container that dies or starts wakes the loop at once. Ticks never overlap. Its
parts: observe.py (what it sees), measure.py (stats, probes, disk use), repairs.py (auto-restart
and the other repairs), activity.py (when a taskspace was last busy).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.agent import NO_AGENT, AgentView, Signal
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import locked
from symposium_tui.core.idle import stop_time
from symposium_tui.core.health import (
    Health,
    HealthFacts,
    HealthState,
    Transition,
    evaluate,
)
from symposium_tui.core.models import ContainerInfo, EngineEvent
from symposium_tui.core.restarts import RestartBook, RestartPolicy, RestartRecord
from symposium_tui.core.services.activity import Activity
from symposium_tui.core.services.agents import AgentWatch, Seen
from symposium_tui.core.services.journal import Journal
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.idle_stop import Due, IdleStops
from symposium_tui.core.services.inventory import TaskspaceGroup, group_taskspaces
from symposium_tui.core.services.measure import Measurements, Samples, limits_of
from symposium_tui.core.services.observe import Observer
from symposium_tui.core.services.repairs import Repairs
from symposium_tui.core.services.storage import StorageUse
from symposium_tui.core.stats import StatsHistory
from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT


@dataclass(frozen=True)
class PollerSettings:
    interval: float = 2.0
    history_seconds: float = 600.0
    repair: bool = True
    idle_cpu_percent: float = 5.0  # of the taskspace's CPU quota
    net_activity_bytes: int = 65536  # per tick, beyond health probes
    storage_every: float = 60.0  # seconds between disk-use measurements (0: never)
    ssh_probe_every: float = 15.0  # seconds between SSH greetings asked of a port that answered
    auto_stop: bool = False  # stop taskspaces idle past config.yaml's auto_stop (monitor, dashboard)
    restart: RestartPolicy = field(default_factory=RestartPolicy)


@dataclass(frozen=True)
class TaskspaceStatus:
    id: str
    health: Health
    project: str = ""
    tier: str = ""
    dev_port: int | None = None
    agent_port: int | None = None
    cpu_percent: float | None = None  # of the quota, agent + dev
    mem_bytes: int | None = None
    mem_limit: int = 0
    cpu_millis: int = 0
    last_activity: str | None = None
    containers: dict[str, ContainerInfo] = field(default_factory=dict, hash=False)
    storage: StorageUse | None = None
    security: str = ""  # isolated, restricted, open
    start: str = ""  # the commit it started from ("": made by an earlier version)
    branch: str = ""  # the branch it works on
    agent: AgentView = NO_AGENT  # its agent's state and signals
    project_type: str = ""  # its environment's toolchains (rust, node+python, none)
    stops_at: float | None = None  # when auto_stop stops it, idle (None: never, or not running)
    stop_held: str = ""  # who keeps it running past that time (an SSH session open)

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "health": self.health.state.value, "reason": self.health.reason or None,
                "project": self.project, "tier": self.tier, "security": self.security,
                "dev_port": self.dev_port,
                "agent_port": self.agent_port,
                "cpu_percent": None if self.cpu_percent is None else round(self.cpu_percent, 2),
                "mem_bytes": self.mem_bytes, "mem_limit": self.mem_limit, "cpu_millis": self.cpu_millis,
                "last_activity": self.last_activity,
                "storage": self.storage.as_dict() if self.storage else None,
                "agent": self.agent.as_dict(), "project_type": self.project_type or None,
                "auto_stop_at": _iso(self.stops_at), "auto_stop_held": self.stop_held or None,
                "containers": {r: c.state.value for r, c in sorted(self.containers.items())}}


@dataclass(frozen=True)
class Snapshot:
    time: float
    taskspaces: tuple[TaskspaceStatus, ...] = ()
    engine_error: str | None = None
    transitions: tuple[Transition, ...] = ()
    restarts: tuple[RestartRecord, ...] = ()
    calls: int = 0  # engine calls this tick made
    registry_only: tuple[str, ...] = ()  # drift: in the registry, gone from the engine
    notices: tuple[str, ...] = ()  # what this tick did besides watching (interrupted creates finished)
    signals: tuple[tuple[str, Signal], ...] = ()  # (taskspace, signal) that arrived this tick

    @property
    def all_ok(self) -> bool:
        return self.engine_error is None and all(t.health.state.ok for t in self.taskspaces)


class Poller(Repairs):
    def __init__(self, ctx: LifecycleContext, settings: PollerSettings | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.settings = settings or PollerSettings()
        self.clock = clock
        self.observer = Observer(self.backend, clock)
        self.measure = Measurements(self.backend, int(self.settings.history_seconds / max(self.settings.interval, 0.1)),
                                    self.settings.storage_every, self.settings.ssh_probe_every)
        self.book = RestartBook(ctx.paths.state_dir / "restarts.json", self.settings.restart)
        self.restart_log: dict[str, deque[RestartRecord]] = defaultdict(lambda: deque(maxlen=50))
        self._log_lock = threading.Lock()
        self.last: Snapshot | None = None
        self._health: dict[str, Health] = {}
        self._gave_up: dict[str, str] = {}  # container -> why
        self._unenforced: dict[str, str] = {}  # taskspace -> which of its firewall rules are gone
        self._dead_since: dict[str, float] = {}
        self._forward_look: dict[str, float] = {}  # taskspace -> when to look at its silent port again
        self.activity = Activity(ctx, self.settings.idle_cpu_percent, self.settings.net_activity_bytes, clock)
        self._tick_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._next_due: float | None = None
        self._levels: dict[str, str] = {}  # taskspace -> its security level, this tick
        self._started: list[EngineEvent] = []
        self._restart_failed: dict[str, str] = {}  # container -> the engine's word on its last restart
        self.agents = AgentWatch(ctx, clock)
        self._busy: dict[str, bool] = {}
        self._auto_stop = ctx.settings.auto_stop
        self._config_seen: tuple[float, int] | None = None  # config.yaml's (mtime, size) when last read
        self.idle_stops = IdleStops(ctx, self.wake, self.own_read, clock) if self.settings.auto_stop else None

    # -- the loop --------------------------------------------------------------------------------
    def run(self, on_snapshot: Callable[[Snapshot], None], follow_events: bool = True) -> None:
        """Tick until stop(); the next tick starts `interval` after the last one ended, or at once
        when an event arrives."""
        events = threading.Thread(target=self.observer.follow, args=(self._stop, self._wake.set),
                                  name="poller-events", daemon=True)
        if follow_events:
            events.start()
        try:
            with ExitStack() as stack:
                if self.idle_stops is not None:
                    stack.enter_context(locked(self.ctx.auto_stop_lock, shared=True))
                self._loop(on_snapshot)
        finally:
            self.stop()

    def _loop(self, on_snapshot: Callable[[Snapshot], None]) -> None:
        first = True
        while not self._stop.is_set():
            # The first snapshot comes at once, without stats or disk use: podman's stats call
            # is the slow one (2 s for 400 containers here; a first sample has no CPU figure
            # anyway), and measuring every writable layer took 1.6 s with 100 containers. The
            # next tick, with both, follows straight away.
            on_snapshot(self.tick(quick=first))
            if first:
                first = False
                continue
            wait = self.settings.interval
            if self._next_due is not None:  # a restart is due before the next regular tick
                wait = max(min(wait, self._next_due - self.clock()), 0.05)
            self._wake.wait(wait)
            self._wake.clear()

    @property
    def next_due(self) -> float | None:
        """When a restart that had to wait for its backoff becomes due (None: nothing waits)."""
        return self._next_due

    def wake(self) -> None:
        """Tick now instead of waiting for the interval (after an action changed something)."""
        self._wake.set()

    @property
    def history(self) -> StatsHistory:
        return self.measure.history

    def own_read(self, taskspace: str, roles: tuple[str, ...] = ("dev",)) -> AbstractContextManager[None]:
        """Around a read of ours in a taskspace (git, for the dashboard): not its activity."""
        return self.activity.own_read(taskspace, roles)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.observer.close()

    # -- one tick --------------------------------------------------------------------------------
    def tick(self, quick: bool = False) -> Snapshot:
        """One snapshot; a quick one leaves out podman's stats and the disk measurement."""
        with self._tick_lock:
            now = self.clock()
            try:
                snapshot = self._tick(now, quick)
            except (SymposiumError, OSError) as exc:
                # Unreachable, or refusing, or a file of ours unreadable: said, and tried again next
                # tick; the last known taskspaces stay.
                message = exc.message if isinstance(exc, SymposiumError) else f"{exc.strerror or exc}"
                snapshot = Snapshot(now, self.last.taskspaces if self.last else (), engine_error=message)
            self.last = snapshot
            return snapshot

    def _tick(self, now: float, quick: bool = False) -> Snapshot:
        """One tick's work, under tick()'s lock; tick() turns its failures into a snapshot."""
        calls_before = getattr(self.backend, "calls", 0)
        self._busy = {}  # each taskspace's lock looked at once a tick, however many parts ask
        self._reread_auto_stop()
        notices = self._recover()
        pods = self.observer.pods()
        containers = self.observer.containers(pods, now)
        stats = [] if quick else self.backend.stats()
        groups = group_taskspaces(pods, containers)
        self._levels = {t: g.pod.labels.get(L.SECURITY, "open") for t, g in groups.items() if g.pod is not None}
        registry = self.ctx.registry.read()
        self._absorb_events(now)
        if not quick:
            self.measure.measure_storage(registry, pods, now,
                                         [c for g in groups.values() for c in g.members.values()])
        self._reapply_limits()
        samples = self.measure.sample(groups, registry, stats, now)
        probes = self.measure.probe(groups, now, quick)
        self._unenforced = self._check_firewall(groups)
        restarts: list[RestartRecord] = []
        if self.settings.repair:
            restarts = self._repair(groups, registry, now) + self._repair_firewall(groups, now) + \
                self._repair_forwards(groups, probes, registry, now)
        signals = self.agents.look([Seen(t, bool((a := g.members.get("agent")) and a.running),
                                         g.pod.labels if g.pod else {}) for t, g in groups.items()], registry)
        self.activity.record(groups, samples, now)  # before the statuses: their activity is this tick's
        statuses, transitions = [], []
        for taskspace, group in groups.items():
            entry = registry.get(taskspace, {})
            health = self._evaluate(taskspace, group, entry, probes)
            if quick:  # its SSH not asked yet: shown, not recorded (the full tick follows at once)
                statuses.append(self._status(taskspace, group, entry, health, samples, now))
                continue
            before = self._health.get(taskspace) or remembered_health(entry)
            if before != health:
                transition = Transition(datetime.fromtimestamp(now, timezone.utc), taskspace, before, health)
                transitions.append(transition)
                self.ctx.log("health.log", transition.as_dict())
            self._health[taskspace] = health
            statuses.append(self._status(taskspace, group, entry, health, samples, now))
        self._remember(transitions)
        if self.idle_stops is not None and not quick:
            self.idle_stops.look(self._due(statuses, now), now)
        for gone in set(self._health) - set(groups):
            del self._health[gone]
        self.measure.forget_except(groups)
        notices += tuple(self.ctx.take_notices())
        return Snapshot(now, tuple(statuses), None, tuple(transitions), tuple(restarts),
                        getattr(self.backend, "calls", 0) - calls_before,
                        tuple(sorted(set(registry) - set(groups))), notices, tuple(signals))

    def _reread_auto_stop(self) -> None:
        """config.yaml's auto_stop again when the file changed (a stat a tick): an edit counts in
        a running monitor or dashboard, not only in the next command. A file that does not parse
        keeps what was in force, and says so once."""
        path = self.ctx.paths.config_file
        try:
            st = path.stat()
            seen = (st.st_mtime, st.st_size)
        except OSError:
            seen = (0.0, -1)
        if self._config_seen is None:
            self._config_seen = seen  # as read at start (ctx.settings)
            return
        if seen == self._config_seen:
            return
        self._config_seen = seen
        from symposium_tui.core.config import load_settings

        try:
            self._auto_stop = load_settings(path).auto_stop
        except SymposiumError as exc:
            self.ctx.note(f"{exc.message}; auto_stop stays as it was until the file is fixed")

    def _is_busy(self, taskspace: str) -> bool:
        """Being created, changed or removed (its lock held), as of this tick."""
        if taskspace not in self._busy:
            self._busy[taskspace] = self.ctx.is_busy(taskspace)
        return self._busy[taskspace]

    def _recover(self) -> tuple[str, ...]:
        """Creates killed half-way (by another process too) are finished off before the list is
        read, so their leftovers never show as taskspaces. A directory listing when there are none."""
        if not Journal(self.ctx).pending():
            return ()
        from symposium_tui.core.services.recovery import Recovery  # only then: a read-only command's start

        return tuple(r.describe() for r in Recovery(self.ctx).run())

    def _absorb_events(self, now: float) -> None:
        for event in self.observer.take_events():
            if event.action == "start" and event.taskspace:
                self._started.append(event)
            self.activity.saw_event(event.action, event.taskspace, event.time.timestamp() if event.time else now)

    def _check_firewall(self, groups: dict[str, TaskspaceGroup]) -> dict[str, str]:
        """Running isolated/restricted taskspaces whose rules are gone (a reboot, a flush): one
        read of the firewall per tick, and only when there are such taskspaces."""
        levels = {t: g.pod.labels.get(L.SECURITY, "open") for t, g in groups.items() if g.pod is not None
                  and any(c.running for c in g.members.values())}
        levels = {t: level for t, level in levels.items() if level != "open"}
        if not levels or self.backend.firewall_unavailable():
            return {}
        try:
            present = self.backend.enforced_taskspaces()
        except SymposiumError:
            return {}
        return {t: f"the firewall rules of its {level} level are missing" for t, level in levels.items()
                if t not in present}

    def _evaluate(self, taskspace: str, group: TaskspaceGroup, entry: dict,
                  probes: dict[tuple[str, str], bool]) -> Health:
        creating = self._is_busy(taskspace) and \
            taskspace not in self._health
        gave_up = {role: self._gave_up[c.name] for role, c in group.members.items() if c.name in self._gave_up}
        failed = {role: self._restart_failed[c.name] for role, c in group.members.items()
                  if c.name in self._restart_failed and not c.running}
        use = self.measure.storage.get(taskspace)
        over = use.problem() if use else None
        unenforced = self._unenforced.get(taskspace)
        return evaluate(HealthFacts(
            pod_exists=group.pod is not None, containers=group.members,
            ssh_ok={role: probes.get((taskspace, role), False) for role in group.members},
            creating=creating, stopped_by_user=bool(entry.get("stopped_by_user")),
            stopped_why=str(entry.get("stopped_why") or ""), gave_up=gave_up,
            storage_over=over, unenforced=unenforced, restart_failed=failed))

    def _status(self, taskspace: str, group: TaskspaceGroup, entry: dict, health: Health,
                samples: Samples, now: float) -> TaskspaceStatus:
        cpu_millis, memory = limits_of(group, entry)
        latest = [s for s, _ in samples.get(taskspace, {}).values() if s is not None]
        labels = group.pod.labels if group.pod else {}
        running = [c for c in group.members.values() if c.running]
        if not running:
            latest = []  # what a stopped container last used is no live value
        project = labels.get(L.PROJECT, entry.get("project", ""))
        tier = entry.get("tier") or labels.get(L.TIER, "")  # adjust --tier records the new one
        last_activity = self.activity.iso(taskspace, entry)
        agent = self.agents.views.get(taskspace, NO_AGENT)
        stops = None
        if running and not self._is_busy(taskspace):
            stops = stop_time(self._auto_stop, tier, project, last_activity, agent, running, now)
        return TaskspaceStatus(
            id=taskspace, health=health, project=project, tier=tier,
            security=labels.get(L.SECURITY, entry.get("security", "")),
            dev_port=group.ports.get(DEV_SSH_PORT), agent_port=group.ports.get(AGENT_SSH_PORT),
            cpu_percent=sum(s.cpu_percent for s in latest) if latest else None,
            mem_bytes=sum(s.mem_bytes for s in latest) if latest else None,
            mem_limit=memory, cpu_millis=cpu_millis,
            last_activity=last_activity, containers=dict(group.members),
            storage=self.measure.storage.get(taskspace),
            start=str(labels.get(L.START) or entry.get("start") or ""),
            branch=str(labels.get(L.BRANCH) or entry.get("branch") or ""),
            agent=agent, project_type=labels.get(L.PROJECT_TYPE, ""), stops_at=stops,
            stop_held=self.idle_stops.held(taskspace) if self.idle_stops is not None and stops else "")

    def _due(self, statuses: list[TaskspaceStatus], now: float) -> list[Due]:
        """The running taskspaces whose idle time is up, with their running containers."""
        due = []
        for status in statuses:
            if status.stops_at is None or status.stops_at > now:
                continue
            after = self._auto_stop.after_for(status.tier, status.project) or 0.0
            members = tuple(c.name for role, c in sorted(status.containers.items())
                            if c.running and role in ("agent", "dev"))
            if members:
                due.append(Due(status.id, members, after, status.stops_at - after, now))
        return due

    # -- repair ----------------------------------------------------------------------------------
    def _remember(self, transitions: list[Transition]) -> None:
        """Keep the last health in the registry, so transitions are real across processes."""
        if not transitions:
            return

        def change(entries: dict) -> None:
            for transition in transitions:
                if transition.taskspace in entries:
                    entries[transition.taskspace]["health"] = transition.after.state.value
                    entries[transition.taskspace]["health_reason"] = transition.after.reason
                    entries[transition.taskspace]["health_since"] = transition.time.isoformat(timespec="seconds")
        try:
            self.ctx.registry.update(change)
        except SymposiumError:
            pass



def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")


def remembered_health(entry: dict) -> Health | None:
    try:
        return Health(HealthState(entry["health"]), entry.get("health_reason") or "")
    except (KeyError, ValueError):
        return None


__all__ = ["HealthState", "Poller", "PollerSettings", "Snapshot", "TaskspaceStatus"]
