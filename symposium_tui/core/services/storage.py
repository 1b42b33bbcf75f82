"""Disk use per taskspace against its storage limit, and whether the limit is enforced.

Measured for every taskspace in a few engine calls (the labelled volumes, their sizes — read from
the file systems on a local engine — and what the containers wrote to their root file systems).
What counts: the project layer (the taskspace's own writes), the build cache, the agent state and
the containers' root file systems (home, installed packages, logs; /tmp and /var/tmp are memory,
bounded by the memory limit). The shared base and the workspace view (an overlay of the base and
the layer) do not.

Enforced: a taskspace's project layer and build cache live on its own ext4 file system of exactly
the storage limit (a sparse file podman loop-mounts as the project volume), so writes beyond it
fail with "No space left on device". The agent state (kept across re-creations, on a volume of its
own) and the containers' root file systems are measured and counted against the same limit, and
flagged OVER when the total passes it, not cut off by the kernel.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from symposium_tui.core import display
from symposium_tui.core import labels as L
from symposium_tui.core.models import ContainerInfo, PodInfo, VolumeInfo
from symposium_tui.core.backend import TaskspaceBackend
from symposium_tui.core.errors import SymposiumError

COUNTED_ROLES = ("project", "build-cache", "agent-state")
ROOT_FS = "root-fs"  # in by_role: what the containers wrote to their own root file systems
FULL_MARGIN = 2**20  # less free space than this (or 1 % of the limit) is a full disk


@dataclass(frozen=True)
class StorageUse:
    taskspace: str
    used: int
    limit: int  # 0 when unknown
    by_role: dict[str, int] = field(default_factory=dict, hash=False)
    enforced: bool = False  # the project layer and build cache cannot grow past the limit
    free: int | None = None  # bytes left on the project disk, when it is mounted here

    @property
    def over(self) -> bool:
        return bool(self.limit) and self.used > self.limit

    @property
    def full(self) -> bool:
        """The project disk has (almost) no space left: writes in /workspace fail."""
        return self.free is not None and self.free < max(self.limit // 100, FULL_MARGIN)

    def describe(self) -> str:
        text = display.size(self.used) + (f"/{display.size(self.limit)}" if self.limit else "")
        return text + (" OVER" if self.over else " FULL" if self.full else "")

    def as_dict(self) -> dict[str, object]:
        return {"used": self.used, "limit": self.limit or None, "over": self.over, "by_role": self.by_role,
                "enforced": self.enforced, "free": self.free, "full": self.full}

    def problem(self) -> str | None:
        """What health says about it, if anything."""
        if self.over:
            return f"storage {display.size(self.used)}/{display.size(self.limit)} is over its limit"
        if self.full:
            return (f"storage {display.size(self.used)}/{display.size(self.limit)} is full: the project disk has "
                    f"{display.size(self.free or 0)} left")
        return None




def measure(backend: TaskspaceBackend, limits: dict[str, int], volumes: list[VolumeInfo] | None = None,
            containers: list[ContainerInfo] | None = None) -> dict[str, StorageUse]:
    """limits: taskspace -> storage limit in bytes (see limits_from); containers: the taskspaces'
    (saves the backend listing them)."""
    volumes = list(backend.observe(L.ALL_OURS, kinds=("volumes",)).volumes) if volumes is None else volumes
    sizes = backend.volume_sizes(volumes)
    space = backend.disk_space(volumes)
    try:
        written = backend.written(containers)
    except SymposiumError:
        written = {}  # the containers' writes are not known this time: the volumes still are
    by_taskspace: dict[str, dict[str, int]] = defaultdict(dict)
    enforced, free = set(), {}
    for volume in volumes:
        taskspace, role = L.taskspace_of(volume.labels), volume.labels.get(L.ROLE)
        if not taskspace or role not in COUNTED_ROLES or volume.is_bind:
            continue  # a bind volume is a view into the project disk, counted there
        if volume.is_loop:
            enforced.add(taskspace)
            if volume.name in space:
                free[taskspace] = space[volume.name][1]
        by_taskspace[taskspace][role] = by_taskspace[taskspace].get(role, 0) + sizes.get(volume.name, 0)
    for taskspace, size in written.items():
        if taskspace in by_taskspace:
            by_taskspace[taskspace][ROOT_FS] = size
    return {t: StorageUse(t, sum(roles.values()), limits.get(t, 0), dict(roles), t in enforced, free.get(t))
            for t, roles in sorted(by_taskspace.items())}


def refresh_disks(backend: TaskspaceBackend, storage: dict[str, StorageUse],
                  volumes: list[VolumeInfo]) -> dict[str, StorageUse]:
    """The project disks' use and free space read again (cheap: the file system, no engine
    call), between the full measurements; the other volumes keep their last figures."""
    space = backend.disk_space([v for v in volumes if v.is_loop and v.labels.get(L.ROLE) == "project"])
    fresh = dict(storage)
    for volume in volumes:
        taskspace = L.taskspace_of(volume.labels)
        if volume.name not in space or taskspace not in storage:
            continue
        used, left = space[volume.name]
        use = storage[taskspace]
        roles = use.by_role | {"project": used}
        fresh[taskspace] = replace(use, used=sum(roles.values()), by_role=roles, free=left)
    return fresh


def limits_from(registry: dict[str, dict], pods: list[PodInfo]) -> dict[str, int]:
    """Each taskspace's storage limit: the registry's effective value, else the creation label."""
    limits = {}
    for pod in pods:
        taskspace = L.taskspace_of(pod.labels)
        if taskspace and pod.labels.get(L.STORAGE, "").isdigit():
            limits[taskspace] = int(pod.labels[L.STORAGE])
    for taskspace, entry in registry.items():
        if entry.get("storage_limit"):
            limits[taskspace] = int(entry["storage_limit"])
    return limits


def enforcement(use: StorageUse) -> str:
    """Say plainly what the storage limit of one taskspace does."""
    if use.enforced:
        return (f"enforced: project layer and build cache on a {display.size(use.limit)} file system "
                "of their own; agent state and the containers' root file systems measured and counted, "
                "not cut off; /tmp in memory")
    return "not enforced (made before project disks): disk use is measured and flagged"
