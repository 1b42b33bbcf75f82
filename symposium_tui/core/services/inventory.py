"""What the engine holds of one taskspace, or of all of them grouped by taskspace, and the
status that follows from it. Labels decide what is ours, never names."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from symposium_tui.core import labels as L
from symposium_tui.core.models import ContainerInfo, NetworkInfo, PodInfo, VolumeInfo
from symposium_tui.core.backend import Inventory, TaskspaceBackend


def inventory(backend: TaskspaceBackend, taskspace: str) -> Inventory:
    seen = backend.observe(L.of_taskspace(taskspace))
    pods = [p for p in seen.pods if p.labels.get(L.ROLE) == "pod"]
    return Inventory(pods[0] if pods else None, tuple(c for c in seen.containers if not c.is_infra),
                     seen.volumes, seen.networks)


@dataclass
class TaskspaceGroup:
    """One taskspace's engine objects, from the batch list calls."""

    pod: PodInfo | None = None
    members: dict[str, ContainerInfo] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)


def group_taskspaces(pods: list[PodInfo], containers: list[ContainerInfo]) -> dict[str, TaskspaceGroup]:
    """Group labelled pods and containers by taskspace; ports come from the infra container."""
    groups: dict[str, TaskspaceGroup] = defaultdict(TaskspaceGroup)
    for pod in pods:
        if pod.labels.get(L.ROLE) == "pod" and (taskspace := L.taskspace_of(pod.labels)):
            groups[taskspace].pod = pod
    for ctr in containers:
        taskspace = L.taskspace_of(ctr.labels)
        if not taskspace:
            continue
        if ctr.is_infra:
            groups[taskspace].ports = {b.container_port: b.host_port for b in ctr.ports}
        elif ctr.labels.get(L.ROLE) in ("agent", "dev"):
            groups[taskspace].members[ctr.labels[L.ROLE]] = ctr
    return dict(sorted(groups.items()))


def derive_status(pod: PodInfo | None, containers: dict[str, ContainerInfo]) -> tuple[str, str]:
    """running / stopped / degraded / missing, with the reason when it is not plain."""
    if pod is None:
        return "missing", "the pod is gone"
    missing = [role for role in ("agent", "dev") if role not in containers]
    running = [role for role in ("agent", "dev") if role in containers and containers[role].running]
    if len(running) == 2:
        return "running", ""
    if missing and len(missing) == 2:
        return "degraded", "no agent or dev container"
    if not running:
        return "stopped", ""
    down = [f"{role} {containers[role].state.value}" for role in ("agent", "dev")
            if role in containers and not containers[role].running] + [f"{r} missing" for r in missing]
    return "degraded", ", ".join(down)


def inventories(pods: list[PodInfo], containers: list[ContainerInfo], volumes: list[VolumeInfo],
                networks: list[NetworkInfo]) -> dict[str, Inventory]:
    """Every taskspace's objects from the four batch list calls, by taskspace."""
    groups = group_taskspaces(pods, containers)
    owned: dict[str, dict[str, list]] = defaultdict(lambda: {"volumes": [], "networks": []})
    for kind, objects in (("volumes", volumes), ("networks", networks)):
        for thing in objects:
            if taskspace := L.taskspace_of(thing.labels):
                owned[taskspace][kind].append(thing)
    return {t: Inventory(groups[t].pod if t in groups else None,
                         tuple(groups[t].members.values()) if t in groups else (),
                         tuple(owned[t]["volumes"]), tuple(owned[t]["networks"]))
            for t in sorted(set(groups) | set(owned))}
