"""Disk use per taskspace against its storage limit, and whether the limit can be enforced here.

Measured for every taskspace in two engine calls (the labelled volumes, and podman's disk usage
report). What counts: the project layer (the taskspace's own writes), the build cache and the agent
state. The shared base and the workspace view (an overlay of the base and the layer) do not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from symposium_tui.core import display
from symposium_tui.core import labels as L
from symposium_tui.core.models import EngineInfo, PodInfo
from symposium_tui.core.taskspace import LifecycleEngine

COUNTED_ROLES = ("project", "build-cache", "agent-state")


@dataclass(frozen=True)
class StorageUse:
    taskspace: str
    used: int
    limit: int  # 0 when unknown
    by_role: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def over(self) -> bool:
        return bool(self.limit) and self.used > self.limit

    def describe(self) -> str:
        text = format_human(self.used) + (f"/{format_human(self.limit)}" if self.limit else "")
        return text + (" OVER" if self.over else "")

    def as_dict(self) -> dict[str, object]:
        return {"used": self.used, "limit": self.limit or None, "over": self.over, "by_role": self.by_role}


def format_human(size: int) -> str:
    return display.size(size)


def measure(engine: LifecycleEngine, limits: dict[str, int]) -> dict[str, StorageUse]:
    """limits: taskspace -> storage limit in bytes (see limits_from)."""
    sizes = engine.volume_sizes()
    by_taskspace: dict[str, dict[str, int]] = defaultdict(dict)
    for volume in engine.volumes(L.ALL_OURS):
        taskspace, role = volume.labels.get(L.TASKSPACE), volume.labels.get(L.ROLE)
        if taskspace and role in COUNTED_ROLES:
            by_taskspace[taskspace][role] = by_taskspace[taskspace].get(role, 0) + sizes.get(volume.name, 0)
    return {t: StorageUse(t, sum(roles.values()), limits.get(t, 0), dict(roles))
            for t, roles in sorted(by_taskspace.items())}


def limits_from(registry: dict[str, dict], pods: list[PodInfo]) -> dict[str, int]:
    """Each taskspace's storage limit: the registry's effective value, else the creation label."""
    limits = {}
    for pod in pods:
        taskspace = pod.labels.get(L.TASKSPACE)
        if taskspace and pod.labels.get(L.STORAGE, "").isdigit():
            limits[taskspace] = int(pod.labels[L.STORAGE])
    for taskspace, entry in registry.items():
        if entry.get("storage_limit"):
            limits[taskspace] = int(entry["storage_limit"])
    return limits


def enforcement(info: EngineInfo) -> str:
    """Say plainly whether the storage limit can be enforced on this engine's storage."""
    fs = info.backing_fs or "unknown"
    if fs.lower() == "xfs":
        return ("not enforced: the volumes are on xfs, where podman's volume size option needs "
                "project quotas (prjquota) on the mount; disk use is measured and flagged")
    name = "ext4" if fs == "extfs" else fs
    return (f"not enforceable on {name} without project quotas: disk use is measured, and a "
            "taskspace over its limit is flagged")
