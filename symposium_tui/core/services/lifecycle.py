"""List, start, stop, restart and remove taskspaces. Labels decide what is ours, never names."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal
from symposium_tui.core.ids import container_name, pod_name, validate_id
from symposium_tui.core.models import ContainerInfo, ExecResult, PodInfo, VolumeInfo
from symposium_tui.core.registry import Drift
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.readiness import PodRepair, wait_ssh_ready
from symposium_tui.core.services.inventory import (  # noqa: F401 - also this module's to import
    Inventory,
    TaskspaceGroup,
    derive_status,
    group_taskspaces,
    inventory,
)
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.resources import Resources
from symposium_tui.core.taskspace import (
    AGENT_SSH_PORT,
    CONTAINER_UID,
    DEV_SSH_PORT,
    PROJECT_MOUNT,
    REMOVED_WITH_TASKSPACE,
    ContainerSpec,
    Taskspace,
    VolumeMount,
)

# Looks for work that exists only in this taskspace: uncommitted changes, commits on no remote.
WORK_CHECK_SCRIPT = r"""
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
    GIT_CONFIG_KEY_1=core.fsmonitor GIT_CONFIG_VALUE_1=false GIT_OPTIONAL_LOCKS=0
cd /workspace 2>/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || exit 3
echo '--uncommitted'
git status --porcelain --untracked-files=normal
echo '--unpushed'
git log --branches --not --remotes --format='%h %s'
"""
# git reads the repository's own config, which whoever works in the taskspace controls (a
# core.fsmonitor or a filter runs commands): so the check runs as that same unprivileged user,
# never as root, and with fsmonitor off.
WORK_CHECK_USER = f"{CONTAINER_UID}:{CONTAINER_UID}"
NOT_GIT = "/workspace is not a git repository, so its changes cannot be checked"
PROBES_AT_ONCE = 4  # work checks of stopped taskspaces in parallel


@dataclass(frozen=True)
class Listing:
    taskspaces: tuple[Taskspace, ...]
    drift: Drift
    pods: tuple[PodInfo, ...] = ()  # as listed, for callers that need their labels


@dataclass(frozen=True)
class UnsavedWork:
    uncommitted: tuple[str, ...]
    unpushed: tuple[str, ...]
    unknown: str = ""

    @property
    def any(self) -> bool:
        return bool(self.uncommitted or self.unpushed or self.unknown)

    def describe(self) -> str:
        if self.unknown:
            return self.unknown
        parts = []
        if self.uncommitted:
            parts.append(f"{len(self.uncommitted)} uncommitted change(s) ({', '.join(self.uncommitted[:3])})")
        if self.unpushed:
            parts.append(f"{len(self.unpushed)} commit(s) on no remote ({', '.join(self.unpushed[:3])})")
        return " and ".join(parts)


class Lifecycle:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.engine = ctx.engine

    # -- reading ---------------------------------------------------------------------------------
    def inventory(self, taskspace: str) -> Inventory:
        return inventory(self.engine, taskspace)

    def list(self) -> Listing:
        """Every taskspace in two engine calls, reconciled with the registry. (Made one after the
        other: podman answers concurrent list calls one at a time anyway, measured.)"""
        pods = self.engine.pods(L.ALL_OURS)
        groups = group_taskspaces(pods, self.engine.containers(L.ALL_OURS))
        seen: dict[str, dict[str, object]] = {}
        for taskspace, group in groups.items():
            status, _ = derive_status(group.pod, group.members)
            fields: dict[str, object] = {"status": status}
            if group.ports:
                fields["dev_port"] = group.ports.get(DEV_SSH_PORT)
                fields["agent_port"] = group.ports.get(AGENT_SSH_PORT)
            seen[taskspace] = fields
        before = self.ctx.registry.read()
        drift = self.ctx.registry.reconcile(seen, after=self.ctx.write_ssh_config)
        rows = []
        for taskspace in sorted(set(seen) | set(drift.registry_only)):
            group = groups.get(taskspace, TaskspaceGroup())
            rows.append(self._row(taskspace, group.pod, group.members, group.ports,
                                  before.get(taskspace, {}), drift))
        return Listing(tuple(rows), drift, tuple(pods))

    def _row(self, taskspace: str, pod: PodInfo | None, containers: dict[str, ContainerInfo],
             ports: dict[int, int], remembered: dict[str, object], drift: Drift) -> Taskspace:
        status, reason = derive_status(pod, containers)
        labels = pod.labels if pod else {}
        if status == "stopped" and remembered.get("stopped_by_user"):
            reason = "stopped by the user"
        return Taskspace(
            id=taskspace, status=status, reason=reason,
            project=labels.get(L.PROJECT) or str(remembered.get("project") or ""),
            repo=labels.get(L.REPO) or str(remembered.get("repo") or ""),
            tier=str(remembered.get("tier") or "") or labels.get(L.TIER) or "",  # adjust records a new one
            security=labels.get(L.SECURITY) or str(remembered.get("security") or ""),
            dev_port=ports.get(DEV_SSH_PORT) or _int(remembered.get("dev_port")),
            agent_port=ports.get(AGENT_SSH_PORT) or _int(remembered.get("agent_port")),
            created=_created(labels.get(L.CREATED)) or (pod.created if pod else None),
            last_activity=str(remembered["last_activity"]) if remembered.get("last_activity") else None,
            drift=drift.of(taskspace), containers=containers)

    def _existing(self, taskspace: str) -> Inventory:
        validate_id(taskspace)
        inventory = self.inventory(taskspace)
        if inventory.empty:
            hint = None
            if self.engine.pod(pod_name(taskspace)) is not None:
                hint = f"a pod named {pod_name(taskspace)} exists, but symposium-tui did not create it"
            raise SymposiumError(f"no taskspace {taskspace!r}", hint=hint)
        return inventory

    def require_pod(self, taskspace: str) -> Inventory:
        inventory = self._existing(taskspace)
        if inventory.pod is None:
            raise SymposiumError(f"taskspace {taskspace!r} has no pod any more (only leftovers)",
                                 hint=f"symposium-tui rm {taskspace}")
        return inventory

    # -- driving ---------------------------------------------------------------------------------
    def start(self, taskspace: str) -> Taskspace:
        return self._bring_up(taskspace, self.engine.start_pod)

    def restart(self, taskspace: str) -> Taskspace:
        return self._bring_up(taskspace, self.engine.restart_pod)

    def _bring_up(self, taskspace: str, pod_action: Callable[[str], None]) -> Taskspace:
        """Under the taskspace's lock (a cleanup removing it meanwhile is refused, and sees it
        running when it re-reads it): its firewall rules checked, room made for old containers'
        CPU quotas, the pod started (or restarted), SSH waited for and the limits put back."""
        validate_id(taskspace)  # before its lock file is named
        with self.ctx.taskspace_lock(taskspace):
            inventory = self.require_pod(taskspace)
            TaskspaceNetwork(self.ctx).ensure(taskspace, inventory.security)
            self._resources().make_room(taskspace)
            pod_action(inventory.pod.name)
            return self._after_start(taskspace, inventory.security)

    def _resources(self) -> Resources:
        return Resources(self.ctx)

    def stop(self, taskspace: str, timeout: int = 10) -> Taskspace:
        inventory = self.require_pod(taskspace)
        self.engine.stop_pod(inventory.pod.name, timeout)
        self.ctx.registry.put(taskspace, {"status": "stopped", "stopped_by_user": True},
                              after=self.ctx.write_ssh_config)
        return self._one(taskspace)

    def _after_start(self, taskspace: str, level: str) -> Taskspace:
        ports = self.engine.pod_ports(pod_name(taskspace))
        repair = PodRepair(self.ctx, taskspace)
        for role, port in (("agent", AGENT_SSH_PORT), ("dev", DEV_SSH_PORT)):
            wait_ssh_ready(self.engine, container_name(taskspace, role), ports.get(port), repair=repair)
        if repair.done:  # the pod was restarted while waiting for the dev container: the agent too
            wait_ssh_ready(self.engine, container_name(taskspace, "agent"), ports.get(AGENT_SSH_PORT))
        self._resources().reapply(taskspace)
        TaskspaceNetwork(self.ctx).refuse_inside(taskspace, level)  # a new network namespace
        self.ctx.registry.put(taskspace, {"status": "running", "stopped_by_user": False,
                                          "dev_port": ports.get(DEV_SSH_PORT),
                                          "agent_port": ports.get(AGENT_SSH_PORT)},
                              after=self.ctx.write_ssh_config)
        return self._one(taskspace)

    def _one(self, taskspace: str) -> Taskspace:
        return next(t for t in self.list().taskspaces if t.id == taskspace)

    # -- removing --------------------------------------------------------------------------------
    def _project_disk_mounted(self, taskspace: str, inventory: Inventory, image: str):  # noqa: ANN202
        project = inventory.volume("project")
        return self._disks_mounted({taskspace: project} if project is not None and project.is_loop else {},
                                   image)

    @contextmanager
    def _disks_mounted(self, disks: dict[str, VolumeInfo], image: str) -> Iterator[None]:
        """While pods are stopped, a holder container keeps their project disks mounted, so the
        workspace overlays (whose upper layers live on them) can be mounted by a probe. podman
        mounts one container's volumes in no fixed order; in a pod, the infra container holds it."""
        if not disks:
            yield
            return
        holder = f"symposium-disk-holder-{secrets.token_hex(4)}"
        self.engine.create_container(ContainerSpec(
            holder, image, L.ours("probe"), entrypoint=("/bin/sh",),
            command=("-c", "trap 'exit 0' TERM; sleep 600 & wait"), network="none",
            volumes=tuple(VolumeMount(v.name, f"{PROJECT_MOUNT}/{t}", read_only=True) for t, v in disks.items())))
        try:
            self.engine.start_container(holder)
            yield
        finally:
            self.engine.remove_container(holder)

    def unsaved_work(self, taskspace: str, inventory: Inventory) -> UnsavedWork:
        dev = next((c for c in inventory.containers if c.labels.get(L.ROLE) == "dev"), None)
        if dev is not None and dev.running:
            result = self.engine.exec(dev.name, ["sh", "-c", WORK_CHECK_SCRIPT], user=WORK_CHECK_USER)
        elif inventory.volume("workspace") is not None:
            image = dev.image if dev else self.ctx.settings.images.dev
            with self._project_disk_mounted(taskspace, inventory, image):
                result = self._probe_workspace(inventory, image)
        else:
            return UnsavedWork((), ())  # no project layer left to lose
        return _work_of(result)

    def _probe_workspace(self, inventory: Inventory, image: str) -> ExecResult:
        """The work check in a throwaway container of its own that mounts this workspace alone:
        git reads the workspace's config, attributes and filters, so taskspaces are never checked
        next to each other's files."""
        return self.engine.run(ContainerSpec(
            name="", image=image, labels=L.ours("probe"), entrypoint=("/bin/sh",),
            command=("-c", WORK_CHECK_SCRIPT), network="none", user=WORK_CHECK_USER,
            volumes=(VolumeMount(inventory.volume("workspace").name, "/workspace", read_only=True),)))

    def unsaved_work_many(self, inventories: dict[str, Inventory]) -> dict[str, UnsavedWork]:
        """unsaved_work for many taskspaces: the stopped ones' project disks held by one holder,
        each workspace checked in its own probe container, a few at a time."""
        found, stopped = {}, {}
        for taskspace, inventory in inventories.items():
            dev = next((c for c in inventory.containers if c.labels.get(L.ROLE) == "dev"), None)
            if (dev is not None and dev.running) or inventory.volume("workspace") is None:
                found[taskspace] = self.unsaved_work(taskspace, inventory)
            else:
                stopped[taskspace] = inventory
        if not stopped:
            return found
        disks = {t: i.volume("project") for t, i in stopped.items()}
        image = self.ctx.settings.images.dev

        def check(taskspace: str) -> tuple[str, UnsavedWork]:
            try:
                return taskspace, _work_of(self._probe_workspace(stopped[taskspace], image))
            except SymposiumError as exc:
                return taskspace, UnsavedWork((), (), f"its workspace could not be checked: {exc.message}")
        with self._disks_mounted({t: v for t, v in disks.items() if v is not None and v.is_loop}, image):
            with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:
                found.update(pool.map(check, sorted(stopped)))
        return found

    def remove(self, taskspace: str, *, purge_state: bool = False, force: bool = False,
               inventory: Inventory | None = None, locked: bool = False) -> dict[str, list[str]]:
        """inventory: what the caller just read of it; locked: the caller holds the taskspace's
        lock already (cleanup re-reads each item under it)."""
        inventory = inventory if inventory is not None and not inventory.empty else self._existing(taskspace)
        with nullcontext() if locked else self.ctx.taskspace_lock(taskspace):
            if not force:
                work = self.unsaved_work(taskspace, inventory)
                if work.any:
                    raise UnsavedWorkRefusal(f"taskspace {taskspace!r} holds work that exists nowhere else: "
                                             f"{work.describe()}; nothing was removed",
                                             hint=f"push it first, or: symposium-tui rm {taskspace} --force",
                                             work=work)
            removed: dict[str, list[str]] = {"pod": [], "containers": [], "volumes": [], "networks": [],
                                             "kept": []}
            if inventory.pod is not None:
                self.engine.remove_pod(inventory.pod.name)
                removed["pod"].append(inventory.pod.name)
            for ctr in inventory.containers:
                self.engine.remove_container(ctr.name)
                removed["containers"].append(ctr.name)
            if inventory.networks or inventory.security != "open":
                removed["networks"] = TaskspaceNetwork(self.ctx).tear_down(taskspace, inventory.networks)
            roles = REMOVED_WITH_TASKSPACE + (("agent-state",) if purge_state else ())
            for role in roles:
                for volume in (v for v in inventory.volumes if v.labels.get(L.ROLE) == role):
                    self.engine.remove_volume(volume.name)
                    removed["volumes"].append(volume.name)
            removed["kept"] = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) not in roles]
            self.ctx.registry.remove(taskspace, after=self.ctx.write_ssh_config)
            if removed["kept"]:
                self.ctx.mark_removed(taskspace)
            self.ctx.forget_host_keys(taskspace)
            self.ctx.remove_taskspace_files(taskspace)
            return removed


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _parse_work(lines: list[str]) -> UnsavedWork:
    section, found = "", {"--uncommitted": [], "--unpushed": []}
    for line in lines:
        if line in found:
            section = line
        elif line.strip() and section:
            found[section].append(line.strip())
    return UnsavedWork(tuple(found["--uncommitted"]), tuple(found["--unpushed"]))


def _created(stamp: str | None) -> datetime | None:
    """The taskspace's creation time from its label (kept when a security change remakes the pod)."""
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _work_of(result: ExecResult) -> UnsavedWork:
    if result.exit_code == 3:
        return UnsavedWork((), (), NOT_GIT)
    if result.exit_code != 0:
        return UnsavedWork((), (), f"checking /workspace failed: {result.stderr.strip()[:200]}")
    return _parse_work(result.stdout.splitlines())
