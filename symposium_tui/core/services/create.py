"""Create a taskspace: pod, copy-on-write project storage, agent state, build cache, containers.

Each step reports progress before it runs. Everything a failed create made is removed again, in
reverse order, before the error reaches the person; the shared base volume of the repository stays
if it existed before. A per-id lock makes a second concurrent create of the same id fail at once.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import yaml

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineConflict, SymposiumError, UsageError
from symposium_tui.core.fsutil import atomic_write, locked
from symposium_tui.core.ids import container_name, pod_name, validate_id, volume_name
from symposium_tui.core.models import ExecResult, VolumeInfo
from symposium_tui.core.net import wait_for
from symposium_tui.core.policy import Limits
from symposium_tui.core.repos import RepoSpec, person_git_identity
from symposium_tui.core.restarts import RestartRecord
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.recovery import CreateJournal
from symposium_tui.core.taskspace import (
    AGENT_SSH_PORT,
    BUILD_CACHE_DIRS,
    CONTAINER_UID,
    DEV_SSH_PORT,
    PROJECT_MOUNT,
    BindMount,
    ContainerSpec,
    LifecycleEngine,
    PodSpec,
    Taskspace,
    VolumeMount,
    VolumeSpec,
)
from symposium_tui.core.units import format_cpu

STEPS = (
    ("check", "checking images, tier and id"),
    ("volumes", "creating volumes"),
    ("project", "preparing project storage"),
    ("network", "setting up the network"),
    ("pod", "creating the pod"),
    ("agent", "starting the agent container"),
    ("agent-ready", "waiting for the agent's SSH"),
    ("dev", "starting the dev container"),
    ("dev-ready", "waiting for the dev container's SSH"),
    ("register", "updating the registry and SSH config"),
)
READY_TIMEOUT = 60.0
REPAIR_AFTER = 10.0  # seconds of a silent port, with sshd listening inside, before the pod is restarted once
REPAIR_EVERY = 5.0  # after that, how often to look again until it is repaired or ready
PATIENT_PROBE = 3.0  # seconds the last probe before a repair waits for a greeting (busy cores)

# Runs in a throwaway container from the agent image. The repository arrives as "$1" (never
# through a shell string); the clone lands in .incoming and is renamed, so a half-made base is
# redone. The project disk is an ext4 file system of exactly the storage limit, in a sparse file:
# podman loop-mounts it as the project volume, so the taskspace's writes (the overlay's upper
# layer) and its build cache can never take more than the limit.
INIT_SCRIPT = r"""
set -eu
repo="$1"; origin="$2"; uid="$3"; size="$4"; shift 4
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
if [ ! -d /base/repo ]; then
    rm -rf /base/.incoming
    git clone --quiet -- "$repo" /base/.incoming
    git -C /base/.incoming remote set-url origin "$origin"
    printf '/.build-cache/\n' >> /base/.incoming/.git/info/exclude
    chown -R "$uid:$uid" /base/.incoming
    mv /base/.incoming /base/repo
fi
seed=/tmp/project-seed
mkdir -p "$seed/upper" "$seed/work" "$seed/cache"
if [ -n "${SYMPOSIUM_GIT_NAME:-}${SYMPOSIUM_GIT_EMAIL:-}" ]; then
    # the person's identity in this taskspace's own copy of the repository's config
    mkdir -p "$seed/upper/.git"
    cp /base/repo/.git/config "$seed/upper/.git/config"
    if [ -n "${SYMPOSIUM_GIT_NAME:-}" ]; then git config -f "$seed/upper/.git/config" user.name "$SYMPOSIUM_GIT_NAME"; fi
    if [ -n "${SYMPOSIUM_GIT_EMAIL:-}" ]; then git config -f "$seed/upper/.git/config" user.email "$SYMPOSIUM_GIT_EMAIL"; fi
fi
for dir in "$@"; do mkdir -p "$seed/cache/$dir"; done
chown -R "$uid:$uid" "$seed/upper" "$seed/cache"
rm -f /disk/.project.img
truncate -s "$size" /disk/.project.img
mkfs.ext4 -q -F -m 0 -L symposium -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \
    -d "$seed" /disk/.project.img
mv /disk/.project.img /disk/project.img
mkdir -p /state/tmux /state/logs /state/history
chmod 755 /state/tmux /state/logs /state/history
chown -R "$uid:$uid" /state
"""
PROJECT_DISK_FILE = "project.img"


@dataclass(frozen=True)
class CreateRequest:
    id: str
    repo: RepoSpec
    image: str | None = None
    project_type: str = "none"
    tier: str | None = None
    security: str | None = None  # None: the default level of config.yaml


@dataclass(frozen=True)
class Launch:
    """What a taskspace's pod and containers are made from (its volumes exist already)."""

    taskspace: str
    labels: dict[str, str]  # project, repo, tier, security level, project type
    limits: Limits
    agent_image: str
    dev_image: str
    layer: str
    workspace: str
    state: str
    cache: str

    @property
    def security(self) -> str:
        return self.labels.get(L.SECURITY) or "open"


@dataclass(frozen=True)
class CreateProgress:
    index: int
    total: int
    step: str
    detail: str


Progress = Callable[[CreateProgress], None]


class Rollback:
    """Undo actions, run newest first; failures while undoing are collected, not raised."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self.problems: list[str] = []

    def add(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))

    def run(self) -> None:
        for what, undo in reversed(self._undo):
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - keep undoing; report every leftover
                self.problems.append(f"{what}: {exc}")
        self._undo.clear()


class Creator:
    def __init__(self, ctx: LifecycleContext, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.engine = ctx.engine
        self.progress = progress or (lambda p: None)
        self._step = 0
        self.mark: dict[str, str] = {}  # labels.CREATE of the create in progress, on all it makes

    def _report(self, step: str, detail: str = "") -> None:
        self._step += 1
        names = dict(STEPS)
        self.progress(CreateProgress(self._step, len(STEPS), step, detail or names[step]))

    def create(self, request: CreateRequest) -> Taskspace:
        taskspace = validate_id(request.id)
        if request.project_type not in BUILD_CACHE_DIRS:
            raise UsageError(f"unknown project type {request.project_type!r}; "
                             f"choose from {', '.join(BUILD_CACHE_DIRS)}")
        level = request.security or self.ctx.settings.security_default
        if level not in LEVELS:
            raise UsageError(f"unknown security level {level!r}; choose from {', '.join(LEVELS)}")
        if level != "open" and (why := self.engine.firewall_unavailable()):
            raise SymposiumError(why, hint="or create it with --security open")
        request = replace(request, security=level)
        tier, limits = self.ctx.policy.resolve(request.tier, request.repo.project)
        with self.ctx.taskspace_lock(taskspace):
            journal = CreateJournal(self.ctx)
            self.mark = {L.CREATE: journal.begin(taskspace)}
            rollback = Rollback()
            try:
                created = self._create(request, taskspace, tier, limits, rollback)
            except BaseException as exc:
                rollback.run()
                if rollback.problems and isinstance(exc, SymposiumError):
                    exc.message += "; could not undo: " + "; ".join(rollback.problems)
                if not rollback.problems:
                    journal.end(taskspace)  # else the next command tries the removal again
                raise
            journal.end(taskspace)
            return created

    def _on_host(self) -> str:
        return "" if self.ctx.host == "local" else f" --connection {self.ctx.host}"

    def _check(self, request: CreateRequest, taskspace: str, limits: Limits) -> tuple[str, str]:
        self._report("check")
        images = self.ctx.settings.images
        dev_image = request.image or images.dev
        for role, image in (("agent", images.agent), ("dev", dev_image)):
            if self.engine.image(image) is None:
                raise SymposiumError(f"the {role} image {image} is not in the engine",
                                     hint="symposium-tui images build" + self._on_host() if image in
                                     (images.agent, images.dev) else f"podman pull {image}")
        if not getattr(self.engine, "reaches_ports", True):
            raise SymposiumError("taskspaces publish SSH on the engine host's 127.0.0.1, which a tcp:// "
                                 "connection cannot reach from here",
                                 hint="connect over SSH: ssh://user@host/run/podman/podman.sock")
        info = self.engine.capacity()
        if info.rootless:
            raise SymposiumError("copy-on-write workspaces need a rootful podman engine for now "
                                 "(the overlay is mounted by the engine)",
                                 hint="use the rootful socket, e.g. --url unix:///run/podman/podman.sock")
        if info.cpus and limits.cpu > info.cpus * 1000:
            raise UsageError(f"the tier asks for {format_cpu(limits.cpu)} CPUs; the engine's host has "
                             f"{info.cpus}")
        if info.memory and limits.memory > info.memory:
            raise UsageError(f"the tier asks for {limits.memory / 2**30:.1f} GiB of memory; the engine's "
                             f"host has {info.memory / 2**30:.1f} GiB")
        existing = self.engine.pod(pod_name(taskspace))
        if existing is not None:
            if L.is_ours(existing.labels):
                raise SymposiumError(f"taskspace {taskspace!r} already exists")
            raise SymposiumError(f"a pod named {pod_name(taskspace)} exists but was not created by "
                                 "symposium-tui; it is left alone", hint="choose another id")
        return images.agent, dev_image

    def _create(self, request: CreateRequest, taskspace: str, tier: str, limits: Limits,
                rollback: Rollback) -> Taskspace:
        agent_image, dev_image = self._check(request, taskspace, limits)
        repo = request.repo
        common = {L.PROJECT: repo.project, L.REPO: repo.source, L.TIER: tier,
                  L.SECURITY: request.security, L.PROJECT_TYPE: request.project_type,
                  L.CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds")}

        self._report("volumes")
        disk = self._volume(taskspace, "project-disk", rollback)
        layer = self._volume(taskspace, "project", rollback, options={
            "type": "ext4", "device": f"{disk.mountpoint}/{PROJECT_DISK_FILE}", "o": "loop"})
        state = self._volume(taskspace, "agent-state", rollback, reuse=True)
        # uid/gid: podman would otherwise give the cache to the first container's user (root).
        cache = self._volume(taskspace, "build-cache", rollback, options={
            "type": "none", "device": f"{layer.mountpoint}/cache",
            "o": f"bind,uid={CONTAINER_UID},gid={CONTAINER_UID}"})

        self._report("project", f"preparing project storage ({repo.base_volume})")
        base_lock = self.ctx.lock_path(repo.base_volume)
        with locked(base_lock):
            base = self._base_volume(repo, rollback)
            self._init_storage(repo, base, disk, state, request.project_type, limits.storage, agent_image)
        workspace = self._workspace_volume(taskspace, base, layer, rollback)

        launch = Launch(taskspace, common, limits, agent_image, dev_image, layer.name, workspace,
                        state.name, cache.name)
        dev_port, agent_port = self.launch(launch, rollback)

        self._report("register")
        created = datetime.now(timezone.utc)
        fields = {"status": "running", "dev_port": dev_port, "agent_port": agent_port,
                  "project": repo.project, "repo": repo.source, "tier": tier,
                  "security": request.security, "created": created.isoformat(timespec="seconds"),
                  "last_activity": created.isoformat(timespec="seconds"), "stopped_by_user": False,
                  "memory_limit": limits.memory, "cpu_millis": limits.cpu, "storage_limit": limits.storage,
                  "create_id": self.mark.get(L.CREATE)}
        self.ctx.forget_host_keys(taskspace)
        self.ctx.registry.put(taskspace, fields, after=self.ctx.write_ssh_config)
        return Taskspace(id=taskspace, status="running", project=repo.project, repo=repo.source,
                         tier=tier, security=request.security, dev_port=dev_port,
                         agent_port=agent_port, created=created, last_activity=fields["last_activity"])

    def launch(self, launch: Launch, rollback: Rollback) -> tuple[int, int]:
        """Network, pod and containers on existing volumes, up to SSH answering in both
        containers; returns (dev port, agent port). Also how a security change recreates a pod."""
        taskspace = launch.taskspace
        self._report("network")
        network = TaskspaceNetwork(self.ctx).set_up(taskspace, launch.security, rollback.add, self.mark)

        self._report("pod")
        pod = pod_name(taskspace)
        limits = launch.limits
        try:
            limit_labels = {L.MEMORY: str(limits.memory), L.CPU: str(limits.cpu),
                            L.STORAGE: str(limits.storage)}
            self.engine.create_pod(PodSpec(pod, taskspace, L.ours("pod", taskspace) | launch.labels | limit_labels | self.mark,
                                           (DEV_SSH_PORT, AGENT_SSH_PORT), limits.memory, limits.cpu,
                                           volumes=(VolumeMount(launch.layer, PROJECT_MOUNT, read_only=True),),
                                           network=network))
        except EngineConflict:
            raise SymposiumError(f"taskspace {taskspace!r} already exists (its pod was just created "
                                 "by someone else)") from None
        rollback.add(f"pod {pod}", lambda: self.engine.remove_pod(pod))
        ports = self.engine.pod_ports(pod)
        dev_port, agent_port = ports.get(DEV_SSH_PORT), ports.get(AGENT_SSH_PORT)
        if not dev_port or not agent_port:
            raise SymposiumError(f"podman did not publish the SSH ports of {pod} (got {ports})")

        facts = self._taskspace_facts(taskspace, launch.labels, dev_port, agent_port)
        rollback.add("taskspace facts", lambda: self.ctx.remove_taskspace_files(taskspace))
        agent = container_name(taskspace, "agent")
        self._report("agent")
        config, auth, context = self.ctx.agent_mounts()
        files = {"config.yaml": config, "auth": auth, "context": context, "taskspace.yaml": facts}
        local = self.engine.local
        self._container(ContainerSpec(
            agent, launch.agent_image, L.ours("agent", taskspace) | launch.labels | self.mark, pod=pod,
            volumes=(VolumeMount(launch.workspace, "/workspace"), VolumeMount(launch.state, "/agent/state")),
            # Read-only bind mounts on this machine; another machine gets root-owned copies.
            binds=tuple(BindMount(str(path), f"/agent/{name}") for name, path in files.items()) if local else (),
            env={"SYMPOSIUM_TASKSPACE": taskspace}, memory=limits.memory), rollback,
            copy=None if local else files, cpu_millis=limits.cpu)
        self._report("agent-ready")
        repair = PodRepair(self.ctx, taskspace)  # one pod restart at most, for the whole create
        wait_ssh_ready(self.engine, agent, agent_port, repair=repair)
        repaired_before_dev = repair.done

        dev = container_name(taskspace, "dev")
        self._report("dev")
        self._container(ContainerSpec(
            dev, launch.dev_image, L.ours("dev", taskspace) | launch.labels | self.mark, pod=pod,
            volumes=(VolumeMount(launch.workspace, "/workspace"),
                     VolumeMount(launch.cache, "/workspace/.build-cache")),
            env={"SYMPOSIUM_TASKSPACE": taskspace}, memory=limits.memory), rollback, cpu_millis=limits.cpu)
        self._report("dev-ready")
        wait_ssh_ready(self.engine, dev, dev_port, repair=repair)
        if repair.done and not repaired_before_dev:  # the pod was restarted: the agent's sshd too
            wait_ssh_ready(self.engine, agent, agent_port)
        if repair.done:  # a restart forgets the containers' live CPU quota
            for name in (agent, dev):
                self.engine.update_container(name, limits.memory, limits.cpu)
        TaskspaceNetwork(self.ctx).refuse_inside(taskspace, launch.security)
        return dev_port, agent_port

    # -- pieces ----------------------------------------------------------------------------------
    def _volume(self, taskspace: str, role: str, rollback: Rollback, reuse: bool = False,
                options: dict[str, str] | None = None) -> VolumeInfo:
        name = volume_name(taskspace, role)
        existing = self.engine.volume(name)
        if existing is not None:
            if reuse and existing.labels.get(L.OWNER) == L.OWNER_VALUE and \
                    existing.labels.get(L.TASKSPACE) == taskspace and existing.labels.get(L.ROLE) == role:
                return existing  # agent state kept from an earlier taskspace of this id
            raise SymposiumError(f"volume {name} already exists" + (
                "" if L.is_ours(existing.labels) else " and was not created by symposium-tui"),
                hint="remove it, or choose another id")
        volume = self.engine.create_volume(VolumeSpec(name, L.ours(role, taskspace) | self.mark, options or {}))
        rollback.add(f"volume {name}", lambda: self.engine.remove_volume(name))
        return volume

    def _base_volume(self, repo: RepoSpec, rollback: Rollback) -> VolumeInfo:
        existing = self.engine.volume(repo.base_volume)
        if existing is not None:
            if existing.labels.get(L.ROLE) != "project-base" or not L.is_ours(existing.labels):
                raise SymposiumError(f"volume {repo.base_volume} exists but is not a project base "
                                     "made by symposium-tui")
            return existing
        labels = L.ours("project-base") | {L.PROJECT: repo.project, L.REPO: repo.source}
        volume = self.engine.create_volume(VolumeSpec(repo.base_volume, labels))
        rollback.add(f"volume {repo.base_volume}", lambda: self.engine.remove_volume(repo.base_volume))
        return volume

    def _init_storage(self, repo: RepoSpec, base: VolumeInfo, disk: VolumeInfo, state: VolumeInfo,
                      project_type: str, size: int, image: str) -> None:
        source = "/source" if repo.kind == "path" else repo.source
        binds = (BindMount(repo.source, "/source"),) if repo.kind == "path" and self.engine.local else ()
        with ExitStack() as cleanup:
            files = None
            if repo.kind == "path" and not self.engine.local:
                # The engine is on another machine: the repository travels as a git bundle (in a
                # temporary directory made only then, so a killed create leaves none behind here).
                tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="symposium-bundle-"))
                source, files = "/source.bundle", {"source.bundle": git_bundle(repo.source, Path(tmp))}
            result = self._run_init(repo, base, disk, state, project_type, size, image, source, binds, files)
        if result.exit_code != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise SymposiumError(f"preparing project storage from {repo.argument} failed: "
                                 + (" | ".join(detail[-3:]) or f"exit code {result.exit_code}"))

    def _run_init(self, repo: RepoSpec, base: VolumeInfo, disk: VolumeInfo, state: VolumeInfo,
                  project_type: str, size: int, image: str, source: str, binds: tuple[BindMount, ...],
                  files: dict[str, Path] | None) -> ExecResult:
        spec = ContainerSpec(
            name="", image=image, labels=L.ours("init") | self.mark, entrypoint=("/bin/sh",),
            command=("-c", INIT_SCRIPT, "symposium-init", source, repo.source, str(CONTAINER_UID),
                     str(size), *BUILD_CACHE_DIRS[project_type]),
            volumes=(VolumeMount(base.name, "/base"), VolumeMount(disk.name, "/disk"),
                     VolumeMount(state.name, "/state")),
            binds=binds, network=None if repo.needs_network else "none", env=self._git_identity())
        return self.engine.run(spec, files=files)

    def _git_identity(self) -> dict[str, str]:
        name, email = person_git_identity(self.ctx.settings.git_name, self.ctx.settings.git_email)
        return {k: v for k, v in (("SYMPOSIUM_GIT_NAME", name), ("SYMPOSIUM_GIT_EMAIL", email)) if v}

    def _workspace_volume(self, taskspace: str, base: VolumeInfo, layer: VolumeInfo,
                          rollback: Rollback) -> str:
        """One overlay mount both containers share: the base read-only below, this layer on top."""
        name = volume_name(taskspace, "workspace")
        if self.engine.volume(name) is not None:
            raise SymposiumError(f"volume {name} already exists", hint="remove it, or choose another id")
        options = {"type": "overlay", "device": "overlay",
                   "o": f"lowerdir={base.mountpoint}/repo,upperdir={layer.mountpoint}/upper,"
                        f"workdir={layer.mountpoint}/work"}
        self.engine.create_volume(VolumeSpec(name, L.ours("workspace", taskspace) | self.mark, options))
        rollback.add(f"volume {name}", lambda: self.engine.remove_volume(name))
        return name

    def _taskspace_facts(self, taskspace: str, labels: dict[str, str], dev_port: int, agent_port: int) -> Path:
        path = self.ctx.taskspace_dir(taskspace) / "taskspace.yaml"
        document = {"taskspace": taskspace, "project": labels.get(L.PROJECT), "repo": labels.get(L.REPO),
                    "tier": labels.get(L.TIER), "project_type": labels.get(L.PROJECT_TYPE),
                    "security": labels.get(L.SECURITY), "ports": {"dev": dev_port, "agent": agent_port}}
        atomic_write(path, yaml.safe_dump(document, sort_keys=False), mode=0o644)
        return path

    def _container(self, spec: ContainerSpec, rollback: Rollback, copy: dict[str, Path] | None = None,
                   cpu_millis: int = 0) -> None:
        """The container's own CPU quota is set live after each start, never at creation: podman
        writes a created quota again at every start, and once the pod's quota was lowered below
        it (adjust) the kernel refuses it and no start ever succeeds again."""
        self.engine.create_container(spec)
        rollback.add(f"container {spec.name}", lambda: self.engine.remove_container(spec.name))
        if copy:
            self.engine.copy_into(spec.name, "/agent", copy)
        self.engine.start_container(spec.name)
        if cpu_millis and spec.memory:
            try:
                self.engine.update_container(spec.name, spec.memory, cpu_millis)
            except SymposiumError:
                if (info := self.engine.container(spec.name)) is not None and info.running:
                    raise
                # it died at once: the wait for its SSH says so, with its output


def git_bundle(repository: str, directory: Path) -> Path:
    """The whole repository (every branch and tag) as one file git can clone from."""
    bundle = directory / "source.bundle"
    try:
        proc = subprocess.run(["git", "-C", repository, "bundle", "create", str(bundle), "--all"],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SymposiumError(f"could not pack {repository} for the remote engine: {exc}") from exc
    if proc.returncode != 0:
        raise SymposiumError(f"could not pack {repository} for the remote engine: "
                             + (proc.stderr.strip().splitlines() or ["git bundle failed"])[-1])
    bundle.chmod(0o644)
    return bundle


def wait_ssh_ready(engine: LifecycleEngine, container: str, port: int | None,
                   repair: PodRepair | None = None) -> None:
    """Until the container's SSH server greets on its published port; fails fast if it dies.

    When the port stays silent for REPAIR_AFTER seconds although sshd listens inside the
    container (and a patient probe confirms it), the engine's port forward is what is broken
    (netavark can lose or shadow its rules when pods come and go at once): REPAIR is called
    (restarting the pod makes the forwards again; at most once per REPAIR object), and the wait
    goes on. It looks again every REPAIR_EVERY seconds until then."""
    next_look = time.monotonic() + REPAIR_AFTER

    def still_worth_waiting() -> str | None:
        nonlocal next_look
        info = engine.container(container)
        if info is None:
            return f"{container} disappeared"
        if not info.running:
            return f"{container} is {info.state.value} (exit code {info.exit_code})"
        if repair is not None and port and not repair.done and time.monotonic() >= next_look:
            if (lost := port_forward_lost(engine, container, port)) is not None:
                repair(lost)
            next_look = time.monotonic() + REPAIR_EVERY
        return None
    why = wait_for(lambda: bool(port) and engine.ssh_answers(port), READY_TIMEOUT, still_worth_waiting)
    if why is not None:
        if port and why.startswith("not ready"):
            why += "; " + look_inside(engine, container, port)[1]
        # its output is kept in the error: a failed create removes the container and its log
        output = last_output(engine, container)
        raise SymposiumError(f"{container} never became ready: {why}; "
                             + (f"its last output: {' | '.join(output)}" if output else "it printed nothing"),
                             hint="the image must run an SSH server on its port (2222 dev, 2223 agent), as "
                                  "the product's own images do" if "exit code" in why else None)


def last_output(engine: LifecycleEngine, container: str, lines: int = 8) -> list[str]:
    """The container's last lines of output, each one line of printable text."""
    try:
        output = engine.logs(container, tail=lines)
    except SymposiumError:
        return []
    cleaned = [" ".join("".join(c if c.isprintable() else " " for c in line).split())[:200] for line in output]
    return [line for line in cleaned if line][-lines:]


def port_forward_lost(engine: LifecycleEngine, container: str, port: int) -> str | None:
    """Why the published PORT looks lost while sshd listens inside the container; None when it
    is not that (sshd not listening yet, the container stopping, or a patient probe answered)."""
    listening, detail = look_inside(engine, container, port)
    if not listening or engine.ssh_why_not(port, timeout=PATIENT_PROBE) is None:
        return None
    info = engine.container(container)
    if info is None or not info.running:  # stopped meanwhile (someone's `stop`): not ours to start
        return None
    return f"{container}'s sshd listens but its published port does not answer ({detail})"


class PodRepair:
    """The one repair wait_ssh_ready may ask for: restart the pod, which makes its port forwards
    again. Said as a notice and in restarts.log, so a person can see it happened."""

    def __init__(self, ctx: LifecycleContext, taskspace: str) -> None:
        self.ctx, self.taskspace, self.pod, self.done = ctx, taskspace, pod_name(taskspace), False

    def __call__(self, why: str) -> None:
        self.done = True
        try:
            self.ctx.engine.restart_pod(self.pod)
        except SymposiumError as exc:
            self._log(why, f"failed: {exc.message}")
            raise SymposiumError(f"{why}; restarting pod {self.pod} to make its port forwards again "
                                 f"failed: {exc.message}", hint=exc.hint) from exc
        self._log(why, "restarted")
        self.ctx.note(f"{why}; restarted pod {self.pod} to make its port forwards again")

    def _log(self, why: str, result: str) -> None:
        """The same line the poller writes for its restarts."""
        self.ctx.log("restarts.log", RestartRecord(time.time(), self.taskspace, self.pod, why, result).log_line())


# Whether anything listens on the SSH port inside the container's network namespace
# (/proc/net/tcp*: state 0A is LISTEN), and the last lines sshd wrote.
INSIDE_CHECK = r"""
hex=$(printf '%04X' "$1")
if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}'
then echo "inside, sshd listens on port $1"
else echo "inside, nothing listens on port $1"
fi
tail -n 3 /var/log/sshd.log 2>/dev/null | sed 's/^/sshd: /'
"""


def look_inside(engine: LifecycleEngine, container: str, port: int) -> tuple[bool, str]:
    """(whether sshd listens inside the container, what a person needs when SSH never greeted):
    what the published PORT did, and what the container shows. A port forward gone wrong reads
    differently from a dead sshd."""
    parts = [engine.ssh_why_not(port) or f"no SSH greeting on port {port}"]
    inner = DEV_SSH_PORT if container.endswith("-dev") else AGENT_SSH_PORT
    try:
        result = engine.exec(container, ["sh", "-c", INSIDE_CHECK, "sh", str(inner)])
    except SymposiumError as exc:
        parts.append(f"could not look inside: {exc}")
        return False, "; ".join(parts)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    parts.extend(lines)
    return f"inside, sshd listens on port {inner}" in lines, "; ".join(parts)
