"""Create a taskspace: pod, copy-on-write project storage, agent state, build cache, containers.

Each step reports progress before it runs. Everything a failed create made is removed again, in
reverse order, before the error reaches the person; the shared base volume of the repository stays
if it existed before. A per-id lock makes a second concurrent create of the same id fail at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import yaml

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineConflict, SymposiumError, UsageError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.ids import container_name, pod_name, validate_id
from symposium_tui.core.policy import Limits
from symposium_tui.core.repos import RepoSpec
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.project_storage import ProjectStorage
from symposium_tui.core.services.readiness import PodRepair, wait_ssh_ready
from symposium_tui.core.services.recovery import CreateJournal
from symposium_tui.core.services.rollback import Rollback
from symposium_tui.core.taskspace import (
    AGENT_SSH_PORT,
    BUILD_CACHE_DIRS,
    DEV_SSH_PORT,
    PROJECT_MOUNT,
    BindMount,
    ContainerSpec,
    PodSpec,
    Taskspace,
    VolumeMount,
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
        storage = ProjectStorage(self.ctx, self.mark)
        volumes = storage.volumes(taskspace, rollback)

        self._report("project", f"preparing project storage ({repo.base_volume})")
        workspace = storage.prepare(taskspace, repo, volumes, request.project_type, limits.storage, agent_image,
                                    rollback)

        launch = Launch(taskspace, common, limits, agent_image, dev_image, volumes.layer.name, workspace,
                        volumes.state.name, volumes.cache.name)
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
