"""Live resource changes: tiers or explicit values, applied without restarting, confirmed from
what the processes feel, recorded, logged and re-applied after restarts.

podman 4.3 has no pod update and forgets container updates on restart, so the registry holds the
effective limits; the pod's limit is changed through the engine (pod update, or the pod's cgroup on
a local engine) and each container's own limit through the container update API.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import container_name, pod_name, validate_id
from symposium_tui.core.policy import Limits
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventory as inventory_of
from symposium_tui.core.units import format_cpu, format_size, parse_cpu, parse_size

PAGE = 4096
MIN_MEMORY = 6 * 2**20  # podman refuses less
FELT_SCRIPT = r"""
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu.max
else
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi
"""


@dataclass(frozen=True)
class Felt:
    """Limits as a container's processes read them from their cgroup (None: unlimited)."""

    memory: int | None
    cpu_millis: int | None


@dataclass(frozen=True)
class Adjustment:
    taskspace: str
    old: Limits
    new: Limits
    applied: bool  # False: the taskspace is not running; the limits apply at its next start
    method: str = ""
    felt: dict[str, Felt] | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"id": self.taskspace, "old": self.old.as_dict(), "new": self.new.as_dict(),
                "applied": self.applied, "method": self.method or None,
                "felt": {role: {"memory": f.memory, "cpu_millis": f.cpu_millis}
                         for role, f in (self.felt or {}).items()}, "note": self.note or None}


def describe_change(old: Limits, new: Limits) -> str:
    parts = []
    if old.memory != new.memory:
        parts.append(f"memory {format_size(old.memory)} -> {format_size(new.memory)}")
    if old.cpu != new.cpu:
        parts.append(f"cpu {format_cpu(old.cpu)} -> {format_cpu(new.cpu)}")
    if old.storage != new.storage:
        parts.append(f"storage {format_size(old.storage)} -> {format_size(new.storage)}")
    return ", ".join(parts) or "no change"


def parse_felt(text: str) -> Felt:
    lines = text.split()
    if len(lines) < 3:
        raise SymposiumError(f"unexpected cgroup reading: {text!r}")
    memory = None if lines[0] == "max" or int(lines[0]) >= 2**62 else int(lines[0])
    quota, period = lines[1], int(lines[2])
    cpu = None if quota in ("max", "-1") else int(quota) * 1000 // period
    return Felt(memory, cpu)


class Resources:
    def __init__(self, ctx: LifecycleContext, via: str = "cli") -> None:
        self.ctx = ctx
        self.engine = ctx.engine
        self.via = via

    def current(self, taskspace: str) -> Limits:
        """The effective limits: what the registry recorded, else what the pod was created with."""
        entry = self.ctx.registry.read().get(taskspace, {})
        inventory = inventory_of(self.engine, taskspace)
        labels = inventory.pod.labels if inventory.pod else {}
        fallback = self.ctx.policy.resolve(labels.get(L.TIER), labels.get(L.PROJECT, ""))[1]

        def pick(field: str, label: str, default: int) -> int:
            value = entry.get(field) or labels.get(label)
            return int(value) if value else default
        return Limits(pick("memory_limit", L.MEMORY, fallback.memory), pick("cpu_millis", L.CPU, fallback.cpu),
                      pick("storage_limit", L.STORAGE, fallback.storage))

    def target(self, old: Limits, tier: str | None, memory: str | None, cpu: str | None) -> Limits:
        if tier is None and memory is None and cpu is None:
            raise UsageError("adjust needs --tier, --memory or --cpu")
        new = self.ctx.policy.tier_limits(tier)[1] if tier else old
        if memory is not None:
            new = replace(new, memory=parse_size(memory, "--memory"))
        if cpu is not None:
            new = replace(new, cpu=parse_cpu(cpu, "--cpu"))
        if new.memory < MIN_MEMORY:
            raise UsageError(f"memory {format_size(new.memory)} is too small; at least 6Mi")
        info = self.engine.capacity()
        if info.memory and new.memory > info.memory:
            raise UsageError(f"memory {format_size(new.memory)} is more than the host has "
                             f"({info.memory / 2**30:.1f} GiB)")
        if info.cpus and new.cpu > info.cpus * 1000:
            raise UsageError(f"cpu {format_cpu(new.cpu)} is more than the host has ({info.cpus} CPUs)")
        return new

    def adjust(self, taskspace: str, *, tier: str | None = None, memory: str | None = None,
               cpu: str | None = None) -> Adjustment:
        validate_id(taskspace)
        inventory = inventory_of(self.engine, taskspace)
        if inventory.pod is None:
            raise SymposiumError(f"no taskspace {taskspace!r}")
        old = self.current(taskspace)
        new = self.target(old, tier, memory, cpu)
        note = ""
        project = inventory.volume("project")
        if new.storage != old.storage and project is not None and project.is_loop:
            note = (f"storage stays {format_size(old.storage)}: the size of a taskspace's project disk is "
                    "fixed when it is created")
            new = replace(new, storage=old.storage)
        running = [c for c in inventory.containers if c.running and c.labels.get(L.ROLE) in ("agent", "dev")]
        method, felt = "", None
        if running:
            method = self._apply(taskspace, old, new, [c.name for c in running])
            felt = self.felt(taskspace)
            for role, reading in felt.items():
                if reading.memory != new.memory - new.memory % PAGE or reading.cpu_millis != new.cpu:
                    raise SymposiumError(
                        f"the {role} container reads memory {reading.memory}, cpu {reading.cpu_millis}m "
                        f"after the change, not {new.memory}, {new.cpu}m")
        self._record(taskspace, old, new, tier or ("custom" if (memory, cpu) != (None, None) else None))
        return Adjustment(taskspace, old, new, bool(running), method, felt, note)

    def _apply(self, taskspace: str, old: Limits, new: Limits, containers: list[str]) -> str:
        """Widen the pod, set the containers, then narrow the pod: each step stays within the
        pod's limit, which a container's own limit may never exceed."""
        pod = pod_name(taskspace)
        wide = Limits(max(old.memory, new.memory), max(old.cpu, new.cpu), new.storage)
        method = self.engine.set_pod_limits(pod, wide.memory, wide.cpu)
        try:
            for name in containers:
                self.engine.update_container(name, new.memory, new.cpu)
        except SymposiumError:
            for name in containers:  # back to where we were, as far as possible
                try:
                    self.engine.update_container(name, old.memory, old.cpu)
                except SymposiumError:
                    pass
            self.engine.set_pod_limits(pod, old.memory, old.cpu)
            raise
        self.engine.set_pod_limits(pod, new.memory, new.cpu)
        return method

    def felt(self, taskspace: str) -> dict[str, Felt]:
        readings = {}
        for ctr in inventory_of(self.engine, taskspace).containers:
            role = ctr.labels.get(L.ROLE)
            if ctr.running and role in ("agent", "dev"):
                result = self.engine.exec(ctr.name, ["sh", "-c", FELT_SCRIPT])
                if result.exit_code != 0:
                    raise SymposiumError(f"cannot read the cgroup limits in {ctr.name}: {result.stderr.strip()}")
                readings[role] = parse_felt(result.stdout)
        return readings

    def _record(self, taskspace: str, old: Limits, new: Limits, tier: str | None) -> None:
        """tier: the tier named, or "custom" for values of one's own (no tier describes them)."""
        self.ctx.registry.put(taskspace, {"memory_limit": new.memory, "cpu_millis": new.cpu,
                                          "storage_limit": new.storage, "limits_adjusted": True}
                              | ({"tier": tier} if tier else {}))
        who = f"{getpass.getuser()}@{socket.gethostname()} via {self.via}"
        self.ctx.log("resource-changes.log", {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "taskspace": taskspace,
            "old": old.as_dict(), "new": new.as_dict(), "change": describe_change(old, new), "who": who})

    def make_room(self, taskspace: str) -> None:
        """Before a start: containers made before their CPU quota was set live (older versions)
        carry one from their creation, which podman writes again at every start; the kernel
        refuses it above the pod's, so widen the pod to it first (reapply narrows it after)."""
        pod = pod_name(taskspace)
        created = [c.created_cpu_millis for role in ("agent", "dev")
                   if (c := self.engine.container(container_name(taskspace, role))) is not None
                   and c.created_cpu_millis]
        if not created:
            return
        memory, cpu = self.engine.pod_limits(pod)
        if cpu is not None and cpu < max(created):
            self.engine.set_pod_limits(pod, memory or self.current(taskspace).memory, max(created))

    def reapply(self, taskspace: str, containers: list[str] | None = None) -> bool:
        """Put the effective limits back after a (re)start: podman forgets container updates,
        and the containers' CPU quota is never part of their creation (see Creator._container)."""
        limits = self.current(taskspace)
        inventory = inventory_of(self.engine, taskspace)
        names = [c.name for c in inventory.containers if c.running and c.labels.get(L.ROLE) in ("agent", "dev")
                 and (containers is None or c.name in containers)]
        if inventory.pod is None or not names:
            return False
        memory, cpu = self.engine.pod_limits(inventory.pod.name)
        if memory != limits.memory or cpu != limits.cpu:
            self._apply(taskspace, Limits(memory or limits.memory, cpu or limits.cpu, limits.storage),
                        limits, names)
        else:
            for name in names:
                self.engine.update_container(name, limits.memory, limits.cpu)
        return True
