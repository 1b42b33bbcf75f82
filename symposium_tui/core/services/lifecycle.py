"""List, start, stop, restart and remove taskspaces. Labels decide what is ours, never names."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from dataclasses import dataclass, replace
from datetime import datetime

from symposium_tui.core import labels as L
from symposium_tui.core import localgit
from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal
from symposium_tui.core.ids import pod_name, validate_id
from symposium_tui.core.models import ContainerInfo, ExecResult, PodInfo
from symposium_tui.core.registry import Drift
from symposium_tui.core.repos import branch_problem, is_commit_id
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import (  # noqa: F401 - also this module's to import
    Inventory,
    TaskspaceGroup,
    derive_status,
    group_taskspaces,
    inventory,
)
from symposium_tui.core.services.journal import Journal, why_held
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.resources import Resources
from symposium_tui.core.taskspace import (
    AGENT_SSH_PORT,
    CONTAINER_UID,
    DEV_SSH_PORT,
    REMOVED_WITH_TASKSPACE,
    Taskspace,
)

# Looks for work that exists only in this taskspace: uncommitted changes, commits on no remote.
WORK_CHECK_SCRIPT = r"""
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
    GIT_CONFIG_KEY_1=core.fsmonitor GIT_CONFIG_VALUE_1=false GIT_OPTIONAL_LOCKS=0
cd /workspace 2>/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || exit 3
echo '--uncommitted'
git status --porcelain --untracked-files=normal
echo '--unpushed'
head=$(git rev-parse -q --verify HEAD || true)
git log --max-count=1000 --branches $head --not --remotes --tags --format='%H %s'
"""
# git reads the repository's own config, which whoever works in the taskspace controls (a
# core.fsmonitor or a filter runs commands): so the check runs as that same unprivileged user,
# never as root, and with fsmonitor off.
WORK_CHECK_USER = f"{CONTAINER_UID}:{CONTAINER_UID}"
WORK_CHECK = ("/bin/sh", "-c", WORK_CHECK_SCRIPT)
NOT_GIT = "/workspace is not a git repository, so its changes cannot be checked"


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
        """"3 commits not fetched (…), 2 files changed (…)": exactly what exists nowhere else."""
        if self.unknown:
            return self.unknown
        parts = []
        if self.unpushed:
            shown = ", ".join(f"{c[:7]}{c[40:] if len(c) > 40 else ''}" if is_commit_id(c[:40]) else c
                              for c in self.unpushed[:3])
            parts.append(f"{_count(len(self.unpushed), 'commit')} not fetched ({shown})")
        if self.uncommitted:
            parts.append(f"{_count(len(self.uncommitted), 'file')} changed ({', '.join(self.uncommitted[:3])})")
        return ", ".join(parts)

    def saved_in(self, have: set[str]) -> UnsavedWork:
        """This work less the commits a repository of the person's has already."""
        return replace(self, unpushed=tuple(c for c in self.unpushed if c[:40] not in have))


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def start_of(labels: dict[str, str], remembered: dict[str, object]) -> dict[str, str]:
    """start and branch from the pod's labels, else the registry; a value that is not a commit id
    or a branch name (whoever can label a pod chooses it) is not shown."""
    start = labels.get(L.START) or remembered.get("start")
    branch = labels.get(L.BRANCH) or remembered.get("branch")
    return {"start": start if is_commit_id(start) else "",
            "branch": branch if isinstance(branch, str) and branch_problem(branch) == "" else ""}


class Lifecycle:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend

    # -- reading ---------------------------------------------------------------------------------
    def inventory(self, taskspace: str) -> Inventory:
        return inventory(self.backend, taskspace)

    def list(self) -> Listing:
        """Every taskspace in two engine calls, reconciled with the registry. (Made one after the
        other: podman answers concurrent list calls one at a time anyway, measured.)"""
        seen_now = self.backend.observe(L.ALL_OURS, kinds=("pods", "containers"))
        pods = list(seen_now.pods)
        groups = group_taskspaces(pods, list(seen_now.containers))
        seen: dict[str, dict[str, object]] = {}
        for taskspace, group in groups.items():
            status, _ = derive_status(group.pod, group.members)
            fields: dict[str, object] = {"status": status}
            if group.ports:
                fields["dev_port"] = group.ports.get(DEV_SSH_PORT)
                fields["agent_port"] = group.ports.get(AGENT_SSH_PORT)
            seen[taskspace] = fields
        before = self.ctx.registry.read()
        # Without a pod but not gone: being changed right now, or its level change was interrupted
        # (its journal says how it ends); their records stay, so gc and cleanup leave them be.
        changes = {e["taskspace"]: e for e in Journal(self.ctx).pending() if e["kind"] == "security"}
        keep = {t for t in set(before) - set(seen) if t in changes or self.ctx.is_busy(t)}
        drift = self.ctx.registry.reconcile(seen, after=self.ctx.write_ssh_config, keep=keep)
        rows = []
        for taskspace in sorted(set(seen) | set(drift.registry_only)):
            group = groups.get(taskspace, TaskspaceGroup())
            row = self._row(taskspace, group.pod, group.members, group.ports, before.get(taskspace, {}), drift)
            if taskspace in changes:
                row = replace(row, reason=why_held(changes[taskspace], self.ctx.host))
            rows.append(row)
        return Listing(tuple(rows), drift, tuple(pods))

    def _row(self, taskspace: str, pod: PodInfo | None, containers: dict[str, ContainerInfo],
             ports: dict[int, int], remembered: dict[str, object], drift: Drift) -> Taskspace:
        status, reason = derive_status(pod, containers)
        labels = pod.labels if pod else {}
        if status == "stopped" and remembered.get("stopped_by_user"):
            reason = str(remembered.get("stopped_why") or "") or "stopped by the user"
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
            drift=drift.of(taskspace), containers=containers, project_type=labels.get(L.PROJECT_TYPE) or "",
            **start_of(labels, remembered))

    def _existing(self, taskspace: str) -> Inventory:
        validate_id(taskspace)
        inventory = self.inventory(taskspace)
        if inventory.empty:
            hint = None
            if self.backend.find("pod", pod_name(taskspace)) is not None:
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
        return self._bring_up(taskspace, restart=False)

    def restart(self, taskspace: str) -> Taskspace:
        return self._bring_up(taskspace, restart=True)

    def _bring_up(self, taskspace: str, restart: bool) -> Taskspace:
        """Under the taskspace's lock (a cleanup removing it meanwhile is refused, and sees it
        running when it re-reads it): its firewall rules checked, room made for old containers'
        CPU quotas, the pod started (or restarted), SSH waited for and the limits put back."""
        validate_id(taskspace)  # before its lock file is named
        with self.ctx.taskspace_lock(taskspace):
            inventory = self.require_pod(taskspace)
            TaskspaceNetwork(self.ctx).ensure(taskspace, inventory.security)
            resources = Resources(self.ctx)
            resources.make_room(taskspace)
            ports = self.backend.bring_up(taskspace, restart, self.ctx.repair_report(taskspace))
            resources.reapply(taskspace)
            TaskspaceNetwork(self.ctx).refuse_inside(taskspace, inventory.security)  # a new network namespace
            self.ctx.registry.put(taskspace, {"status": "running", "stopped_by_user": False, "stopped_why": "",
                                              "dev_port": ports.get(DEV_SSH_PORT),
                                              "agent_port": ports.get(AGENT_SSH_PORT)},
                                  after=self.ctx.write_ssh_config)
            return self._one(taskspace)

    def stop(self, taskspace: str, timeout: int = 10, why: str = "") -> Taskspace:
        """Stopped, and not restarted by the repairs; `why`: what stopped it, when not the person
        (auto_stop), kept for ls."""
        self.require_pod(taskspace)
        self.backend.stop(taskspace, timeout)
        self.ctx.registry.put(taskspace, {"status": "stopped", "stopped_by_user": True, "stopped_why": why},
                              after=self.ctx.write_ssh_config)
        return self._one(taskspace)

    def _one(self, taskspace: str) -> Taskspace:
        return next(t for t in self.list().taskspaces if t.id == taskspace)

    # -- removing --------------------------------------------------------------------------------
    def unsaved_work(self, taskspace: str, inventory: Inventory) -> UnsavedWork:
        dev = next((c for c in inventory.containers if c.labels.get(L.ROLE) == "dev"), None)
        if not (dev is not None and dev.running) and inventory.volume("workspace") is None:
            return UnsavedWork((), ())  # no project layer left to lose
        image = dev.image if dev else self.ctx.settings.images.dev
        result = self.backend.run_in_workspaces({taskspace: inventory}, WORK_CHECK, WORK_CHECK_USER,
                                                image)[taskspace]
        if isinstance(result, SymposiumError):
            raise result
        return self._less_fetched(taskspace, inventory, _work_of(result))

    def _less_fetched(self, taskspace: str, inventory: Inventory, work: UnsavedWork) -> UnsavedWork:
        """Commits the person's repository has (the local one it was made from, the clone it was
        fetched into) are saved: they exist elsewhere."""
        if not work.unpushed:
            return work
        remembered = self.ctx.registry.read().get(taskspace, {})
        fetched = remembered.get("fetched") if isinstance(remembered.get("fetched"), dict) else {}
        labels = [inventory.pod.labels if inventory.pod else {}, *(v.labels for v in inventory.volumes)]
        places = {p for p in (*(lab.get(L.REPO) for lab in labels), remembered.get("repo"), fetched.get("into"))
                  if isinstance(p, str) and p.startswith("/") and "\0" not in p}
        have: set[str] = set()
        shas = [c[:40] for c in work.unpushed]
        for place in sorted(places):
            if Path(place).is_dir():
                have |= localgit.present(place, shas)
        return work.saved_in(have)

    def unsaved_work_many(self, inventories: dict[str, Inventory]) -> dict[str, UnsavedWork]:
        """unsaved_work for many taskspaces: the stopped ones' project disks held by one holder,
        each workspace checked in its own probe container, a few at a time."""
        found = {}
        results = self.backend.run_in_workspaces(inventories, WORK_CHECK, WORK_CHECK_USER,
                                                 self.ctx.settings.images.dev)
        for taskspace in inventories:
            result = results.get(taskspace)
            if result is None:
                found[taskspace] = UnsavedWork((), ())  # no project layer left to lose
            elif isinstance(result, SymposiumError):
                found[taskspace] = UnsavedWork((), (), f"its workspace could not be checked: {result.message}")
            else:
                found[taskspace] = self._less_fetched(taskspace, inventories[taskspace], _work_of(result))
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
                                             hint=f"bring it home first (commit it there, then symposium-tui fetch {taskspace}), "
                                                  f"or: symposium-tui rm {taskspace} --force",
                                             work=work)
            removed: dict[str, list[str]] = {"pod": [], "containers": [], "volumes": [], "networks": [],
                                             "kept": []}
            if inventory.pod is not None:
                self.backend.remove("pod", inventory.pod.name)
                removed["pod"].append(inventory.pod.name)
            for ctr in inventory.containers:
                self.backend.remove("container", ctr.name)
                removed["containers"].append(ctr.name)
            if inventory.networks or inventory.security != "open":
                removed["networks"] = TaskspaceNetwork(self.ctx).tear_down(taskspace, inventory.networks)
            roles = REMOVED_WITH_TASKSPACE + (("agent-state",) if purge_state else ())
            for role in roles:
                for volume in (v for v in inventory.volumes if v.labels.get(L.ROLE) == role):
                    self.backend.remove("volume", volume.name)
                    removed["volumes"].append(volume.name)
            removed["kept"] = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) not in roles]
            self.ctx.registry.remove(taskspace, after=self.ctx.write_ssh_config)
            if removed["kept"]:
                self.ctx.mark_removed(taskspace)
            self.ctx.forget_host_keys(taskspace)
            self.ctx.remove_taskspace_files(taskspace)
            journal = Journal(self.ctx)
            if (entry := journal.entry(taskspace)) is not None and entry["kind"] == "security":
                journal.end(taskspace)  # an interrupted level change: nothing left to make a pod for
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
