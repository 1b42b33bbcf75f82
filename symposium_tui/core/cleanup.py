"""Cleanup and volume GC plans: pure functions from facts to what would go, what stays, and why.

Only objects carrying the product's labels can enter a plan. The seed's GC split volume names on
dashes (breaking ids like `fix-login-2`) and deleted the agent state cleanup keeps on purpose;
here labels name the taskspace and the role, and agent state goes only past its retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from symposium_tui.core import labels as L
from symposium_tui.core.ids import pod_name
from symposium_tui.core.models import ContainerInfo, NetworkInfo, PodInfo, VolumeInfo
from symposium_tui.core.taskspace import REMOVED_WITH_TASKSPACE
from symposium_tui.core.units import format_duration

REMOVED_ROLES = REMOVED_WITH_TASKSPACE


@dataclass(frozen=True)
class Thing:
    kind: str  # pod, container, volume, network (with its firewall rules)
    name: str
    role: str = ""
    bytes: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "role": self.role, "bytes": self.bytes}


@dataclass(frozen=True)
class CleanupItem:
    taskspace: str
    status: str
    inactive_seconds: float
    why: str
    remove: tuple[Thing, ...]
    keep: tuple[Thing, ...]
    purge_state: bool = False
    unsaved: str = ""  # the work that exists only here, described ("" when none)
    commands: tuple[str, ...] = ()  # how a person would remove it by hand (the backend's words)

    @property
    def warning(self) -> str:
        return f"holds {self.unsaved}: skipped on apply unless --force" if self.unsaved else ""

    @property
    def bytes_reclaimed(self) -> int:
        return sum(t.bytes for t in self.remove)

    def as_dict(self) -> dict[str, object]:
        return {"taskspace": self.taskspace, "status": self.status,
                "inactive_seconds": round(self.inactive_seconds), "why": self.why,
                "remove": [t.as_dict() for t in self.remove], "keep": [t.as_dict() for t in self.keep],
                "bytes_reclaimed": self.bytes_reclaimed, "warning": self.warning or None,
                "unsaved": self.unsaved or None,
                "commands": list(self.commands)}


@dataclass(frozen=True)
class TaskspaceFacts:
    taskspace: str
    pod: PodInfo | None
    containers: tuple[ContainerInfo, ...]
    volumes: tuple[VolumeInfo, ...]
    entry: dict = field(default_factory=dict, hash=False)  # the registry's record
    networks: tuple[NetworkInfo, ...] = ()


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def last_activity(facts: TaskspaceFacts) -> tuple[datetime | None, str]:
    """The most recent sign of life and where it came from; creation time only as a last resort."""
    recorded = _when(facts.entry.get("last_activity"))
    if recorded:
        return recorded, "last activity"
    created = facts.pod.created if facts.pod else None
    if created is None:
        stamps = [v.created for v in facts.volumes if v.created]
        created = min(stamps) if stamps else None
    return created, "created (no activity recorded)"


def status_of(facts: TaskspaceFacts) -> str:
    running = [c for c in facts.containers if c.running and c.labels.get(L.ROLE) in ("agent", "dev")]
    if facts.pod is None:
        return "leftovers"
    return "running" if running else "stopped"


def plan_cleanup(taskspaces: list[TaskspaceFacts], sizes: dict[str, int], now: datetime,
                 inactive_for: timedelta, retention: timedelta, include_running: bool,
                 unsaved: dict[str, str] | None = None) -> list[CleanupItem]:
    items = []
    for facts in sorted(taskspaces, key=lambda f: f.taskspace):
        status = status_of(facts)
        if status == "running" and not include_running:
            continue
        when, source = last_activity(facts)
        if when is None:
            continue  # nothing tells its age: never guess
        idle = now - when
        if idle < inactive_for:
            continue
        reasons = [f"{source} {format_duration(idle.total_seconds())} ago ({when:%Y-%m-%d %H:%M} UTC)"]
        stopped = [c.finished for c in facts.containers if c.finished and not c.running]
        if status == "stopped" and stopped:
            reasons.append(f"stopped since {max(stopped):%Y-%m-%d %H:%M} UTC")
        health = facts.entry.get("health")
        if health in ("degraded", "down") and facts.entry.get("health_since"):
            reasons.append(f"{health} since {facts.entry['health_since']}")
        purge_state = idle >= retention
        remove: list[Thing] = []
        if facts.pod is not None:
            remove.append(Thing("pod", facts.pod.name, "pod"))
        remove += [Thing("container", c.name, c.labels.get(L.ROLE, "")) for c in facts.containers]
        remove += [Thing("network", n.name, "network") for n in facts.networks]
        keep: list[Thing] = []
        for volume in sorted(facts.volumes, key=lambda v: v.name):
            role = volume.labels.get(L.ROLE, "")
            thing = Thing("volume", volume.name, role, 0 if role == "workspace" else sizes.get(volume.name, 0))
            if role in REMOVED_ROLES or (role == "agent-state" and purge_state):
                remove.append(thing)
            else:
                keep.append(thing)
        if purge_state:
            reasons.append(f"agent state past its {format_duration(retention.total_seconds())} retention")
        items.append(CleanupItem(facts.taskspace, status, idle.total_seconds(), "; ".join(reasons),
                                 tuple(remove), tuple(keep), purge_state, (unsaved or {}).get(facts.taskspace, "")))
    return items


# The roles that hold a taskspace's workspace (the overlay and the project disk its changes live
# on): checked for unsaved work before gc plans them.
WORK_ROLES = ("workspace", "project", "project-disk")


@dataclass(frozen=True)
class GcItem:
    volume: Thing
    taskspace: str
    why: str
    command: str = ""  # how a person would remove it by hand (the backend's words)
    unsaved: str = ""  # the work that exists only in this workspace, described ("" when none)

    @property
    def warning(self) -> str:
        return f"holds {self.unsaved}: skipped on apply unless --force" if self.unsaved else ""

    def as_dict(self) -> dict[str, object]:
        network = self.volume.kind == "network"
        return {"kind": self.volume.kind, "volume": None if network else self.volume.name,
                "network": self.volume.name if network else None, "role": self.volume.role,
                "taskspace": self.taskspace or None, "bytes": self.volume.bytes, "why": self.why,
                "command": self.command or None, "warning": self.warning or None,
                "unsaved": self.unsaved or None}


def plan_gc(volumes: list[VolumeInfo], live_taskspaces: set[str], live_repos: set[str],
            sizes: dict[str, int], removed_at: dict[str, str], now: datetime,
            retention: timedelta, networks: tuple[NetworkInfo, ...] = (),
            held: dict[str, str] | None = None) -> tuple[list[GcItem], list[GcItem]]:
    """(what goes, what stays and why) among labelled volumes (and taskspace networks) whose
    taskspace has no pod. `held`: taskspaces without a pod that are not gone either (registered,
    locked, journaled), with why; theirs all stay. Agent state goes only past its retention counted
    from the taskspace's recorded removal: a volume's creation date says nothing of that."""
    held = held or {}
    goes, stays = [], []

    def gone(thing: Thing, taskspace: str, why: str) -> None:
        if taskspace in held:
            stays.append(GcItem(thing, taskspace, f"{thing.role} of taskspace {taskspace}, which has no pod "
                                                  f"but is not gone: {held[taskspace]}"))
        else:
            goes.append(GcItem(thing, taskspace, why))
    for network in sorted(networks, key=lambda n: n.name):
        taskspace = L.taskspace_of(network.labels) or ""
        if L.is_ours(network.labels) and taskspace and taskspace not in live_taskspaces:
            gone(Thing("network", network.name, "network"), taskspace,
                 f"network of taskspace {taskspace}, which no longer exists (no pod "
                 f"{pod_name(taskspace)}); its firewall rules go with it")
    for volume in sorted(volumes, key=lambda v: v.name):
        if not L.is_ours(volume.labels):
            continue
        role = volume.labels.get(L.ROLE, "")
        taskspace = L.taskspace_of(volume.labels) or ""
        thing = Thing("volume", volume.name, role, sizes.get(volume.name, 0))
        if role == "project-base":
            if volume.labels.get(L.REPO) not in live_repos:
                goes.append(GcItem(thing, "", "no taskspace uses this repository any more"))
            continue
        if not taskspace or taskspace in live_taskspaces:
            continue
        if role == "agent-state" and taskspace not in held:
            since = _when(removed_at.get(taskspace))
            if since is None:
                stays.append(GcItem(thing, taskspace, f"agent state of {taskspace}, whose removal is not "
                                    "recorded, so how long it has been gone is not known (its creation "
                                    "date is not its age): kept until removed by hand, with "
                                    f"`symposium-tui rm {taskspace} --purge-state`"))
                continue
            age = now - since
            if age >= retention:
                goes.append(GcItem(thing, taskspace, f"agent state of {taskspace}, gone "
                                   f"{format_duration(age.total_seconds())} (retention "
                                   f"{format_duration(retention.total_seconds())})"))
            else:
                left = retention - age
                stays.append(GcItem(thing, taskspace, f"agent state kept {format_duration(left.total_seconds())} more"))
            continue
        gone(thing, taskspace, f"{role} of taskspace {taskspace}, which no longer exists "
                               f"(no pod {pod_name(taskspace)})")
    return goes, stays
