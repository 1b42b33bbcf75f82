"""Live resource changes: tiers or explicit values, applied without restarting, confirmed from
what the processes feel, recorded, logged and re-applied after restarts.

Engines forget limits (podman's container updates on restart; a container's CPU quota is never set
at creation), so the registry holds the effective limits and they are put back after every start.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.backend import Felt
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.policy import Limits
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventory as inventory_of
from symposium_tui.core.units import format_cpu, format_size, parse_cpu, parse_size

PAGE = 4096
MIN_MEMORY = 6 * 2**20  # podman refuses less
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


class Resources:
    def __init__(self, ctx: LifecycleContext, via: str = "cli") -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.via = via

    def current(self, taskspace: str) -> Limits:
        """The effective limits: what the registry recorded, else what the pod was created with."""
        entry = self.ctx.registry.read().get(taskspace, {})
        inventory = inventory_of(self.backend, taskspace)
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
        info = self.backend.capacity()
        if info.memory and new.memory > info.memory:
            raise UsageError(f"memory {format_size(new.memory)} is more than the host has "
                             f"({info.memory / 2**30:.1f} GiB)")
        if info.cpus and new.cpu > info.cpus * 1000:
            raise UsageError(f"cpu {format_cpu(new.cpu)} is more than the host has ({info.cpus} CPUs)")
        return new

    def adjust(self, taskspace: str, *, tier: str | None = None, memory: str | None = None,
               cpu: str | None = None) -> Adjustment:
        validate_id(taskspace)
        inventory = inventory_of(self.backend, taskspace)
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
        """Each step stays within the taskspace's limit, which a container's may never exceed."""
        return self.backend.apply_limits(taskspace, old, new, containers)

    def felt(self, taskspace: str) -> dict[str, Felt]:
        return {ctr.labels[L.ROLE]: self.backend.felt_limits(ctr.name)
                for ctr in inventory_of(self.backend, taskspace).containers
                if ctr.running and ctr.labels.get(L.ROLE) in ("agent", "dev")}

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
        """Before a start: room for the CPU quota older versions gave containers at creation
        (the limits put back after the start narrow it again)."""
        self.backend.make_room(taskspace, lambda: self.current(taskspace).memory)

    def reapply(self, taskspace: str, containers: list[str] | None = None) -> bool:
        """Put the effective limits back after a (re)start: podman forgets container updates,
        and the containers' CPU quota is never part of their creation (see Creator._container)."""
        limits = self.current(taskspace)
        inventory = inventory_of(self.backend, taskspace)
        names = [c.name for c in inventory.containers if c.running and c.labels.get(L.ROLE) in ("agent", "dev")
                 and (containers is None or c.name in containers)]
        if inventory.pod is None or not names:
            return False
        memory, cpu = self.backend.taskspace_limits(taskspace)
        if memory != limits.memory or cpu != limits.cpu:
            self._apply(taskspace, Limits(memory or limits.memory, cpu or limits.cpu, limits.storage),
                        limits, names)
        else:
            for name in names:
                self.backend.set_member_limits(name, limits)
        return True
