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
from symposium_tui.core.agent import AgentSpec
from symposium_tui.core.backend import LaunchSpec, RepositoryEnvironment, Storage, StorageRequest
from symposium_tui.core.definition import Definition, find as find_definitions
from symposium_tui.core.display import printable
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.ids import container_name, pod_name, validate_id
from symposium_tui.core.policy import Limits
from symposium_tui.core import localgit
from symposium_tui.core.repos import RepoSpec, person_git_identity, validate_branch, validate_ref
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.journal import Journal
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.rollback import Rollback
from symposium_tui.core.taskspace import Taskspace
from symposium_tui.core.toolchains import choice_of, key_of
from symposium_tui.core.units import format_cpu

STEPS = (
    ("check", "checking images, tier and id"),
    ("volumes", "creating volumes"),
    ("project", "preparing project storage"),
    ("environment", "preparing the dev environment"),
    ("network", "setting up the network"),
    ("pod", "creating the pod"),
    ("agent", "starting the agent container"),
    ("agent-ready", "waiting for the agent's SSH"),
    ("dev", "starting the dev container"),
    ("dev-ready", "waiting for the dev container's SSH"),
    ("post-create", "running the repository's postCreateCommand"),
    ("register", "updating the registry and SSH config"),
)

@dataclass(frozen=True)
class CreateRequest:
    id: str
    repo: RepoSpec
    image: str | None = None
    project_type: str | None = None  # rust, node+python, none...; None: from the files at the start commit
    tier: str | None = None
    security: str | None = None  # None: the default level of config.yaml
    ref: str | None = None  # a branch, tag or commit; None: HEAD of a local repository, a URL's default branch
    branch: str | None = None  # None: taskspace/ID
    agent_command: tuple[str, ...] | None = None  # None: config.yaml's agent.command; (): a shell
    task: str | None = None  # kept at /agent/state/task.md


@dataclass(frozen=True)
class Launch:
    """What a taskspace's pod and containers are made from (its volumes exist already)."""

    taskspace: str
    labels: dict[str, str]  # project, repo, tier, security level, project type
    limits: Limits
    agent_image: str
    dev_image: str
    storage: Storage

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
        self.backend = ctx.backend
        self.progress = progress or (lambda p: None)
        self._step = 0
        self.mark: dict[str, str] = {}  # labels.CREATE of the create in progress, on all it makes
        self.notes: list[str] = []  # what the person should know of a create that worked
        self._said_environment = False

    def _report(self, step: str, detail: str = "") -> None:
        self._step += 1
        names = dict(STEPS)
        self.progress(CreateProgress(self._step, len(STEPS), step, detail or names[step]))

    def create(self, request: CreateRequest) -> Taskspace:
        taskspace = validate_id(request.id)
        if request.project_type is not None:
            choice_of(request.project_type, "project type")
        level = request.security or self.ctx.settings.security_default
        if level not in LEVELS:
            raise UsageError(f"unknown security level {level!r}; choose from {', '.join(LEVELS)}")
        if level != "open" and (why := self.backend.firewall_unavailable()):
            raise SymposiumError(why, hint="or create it with --security open")
        request = replace(request, security=level, branch=validate_branch(request.branch or f"taskspace/{taskspace}"),
                          ref=self._start_of(request))
        tier, limits = self.ctx.policy.resolve(request.tier, request.repo.project)
        agent = self._agent_of(request)
        with self.ctx.taskspace_lock(taskspace):
            journal = Journal(self.ctx)
            self.mark = {L.CREATE: journal.begin(taskspace)}
            rollback = Rollback()
            try:
                created = self._create(request, taskspace, tier, limits, agent, rollback)
            except BaseException as exc:
                rollback.run()
                if rollback.problems and isinstance(exc, SymposiumError):
                    exc.message += "; could not undo: " + "; ".join(rollback.problems)
                if not rollback.problems:
                    journal.end(taskspace)  # else the next command tries the removal again
                raise
            journal.end(taskspace)
            return created

    def _agent_of(self, request: CreateRequest) -> AgentSpec:
        """config.yaml's agent, with --agent-command's command; each @auth/NAME it reads must be a
        file of the agent's auth folder now, not a surprise when the agent starts."""
        spec = self.ctx.settings.agent
        if request.agent_command is not None:
            spec = replace(spec, command=request.agent_command)
        _, auth, _ = self.ctx.agent_mounts()
        for name in spec.auth_names:
            if not (auth / name).is_file():
                raise UsageError(f"the agent's environment reads @auth/{name}, but {auth / name} is not a file",
                                 hint="put the secret there (chmod 644: the container's agent user reads it) "
                                      "or change agent.env in config.yaml")
        return spec

    def _start_of(self, request: CreateRequest) -> str:
        """The start commit of a local repository (resolved now, so a REF that names nothing is
        refused before anything is made), else the ref a URL's fetch resolves ("": its default)."""
        ref = validate_ref(request.ref) if request.ref is not None else None
        if request.repo.kind != "path":
            return "" if ref in (None, "HEAD") else ref
        sha = localgit.resolve(request.repo.source, ref or "HEAD")
        if ref is None and (changed := localgit.uncommitted(request.repo.source)):
            self.notes.append(f"{changed} uncommitted change(s) in {request.repo.source} are not carried over: "
                              f"the taskspace starts from its HEAD commit {sha[:12]}")
        return sha

    def _on_host(self) -> str:
        return "" if self.ctx.host == "local" else f" --connection {self.ctx.host}"

    def _check(self, request: CreateRequest, taskspace: str, limits: Limits) -> tuple[str, str]:
        self._report("check")
        images = self.ctx.settings.images
        dev_image = request.image or images.dev
        for role, image in (("agent", images.agent), ("dev", dev_image)):
            if self.backend.image(image) is None:
                raise SymposiumError(f"the {role} image {image} is not in the engine",
                                     hint="symposium-tui images build" + self._on_host() if image in
                                     (images.agent, images.dev) else f"podman pull {image}")
        if not self.backend.reaches_ports:
            raise SymposiumError("taskspaces publish SSH on the engine host's 127.0.0.1, which a tcp:// "
                                 "connection cannot reach from here",
                                 hint="connect over SSH: ssh://user@host/run/podman/podman.sock")
        info = self.backend.capacity()
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
        elsewhere = self.ctx.registry.owner_elsewhere(taskspace)
        if elsewhere is not None:
            raise SymposiumError(f"taskspace {taskspace!r} exists on another engine of this machine "
                                 f"({elsewhere or 'its own engine'}): an id is one taskspace on a machine "
                                 "(its SSH aliases and firewall chain go by it)",
                                 hint="choose another id, or remove that one there")
        existing = self.backend.find("pod", pod_name(taskspace))
        if existing is not None:
            if L.is_ours(existing.labels):
                raise SymposiumError(f"taskspace {taskspace!r} already exists")
            raise SymposiumError(f"a pod named {pod_name(taskspace)} exists but was not created by "
                                 "symposium-tui; it is left alone", hint="choose another id")
        return images.agent, dev_image

    def _create(self, request: CreateRequest, taskspace: str, tier: str, limits: Limits, agent: AgentSpec,
                rollback: Rollback) -> Taskspace:
        agent_image, dev_image = self._check(request, taskspace, limits)
        repo = request.repo
        common = {L.PROJECT: repo.project, L.REPO: repo.source, L.TIER: tier, L.SECURITY: request.security,
                  L.CREATED: datetime.now(timezone.utc).isoformat(timespec="seconds")} | agent.labels()
        if request.task is not None:
            rollback.add("taskspace files", lambda: self.ctx.remove_taskspace_files(taskspace))
            atomic_write(self.ctx.taskspace_dir(taskspace) / "task.md", request.task, mode=0o644)

        name, email = person_git_identity(self.ctx.settings.git_name, self.ctx.settings.git_email)
        storage = self.backend.provision_storage(StorageRequest(
            taskspace, repo, limits.storage, agent_image, self.mark,
            git_identity={k: v for k, v in (("SYMPOSIUM_GIT_NAME", name), ("SYMPOSIUM_GIT_EMAIL", email)) if v},
            base_lock=self.ctx.base_lock, ref=request.ref or "", branch=request.branch or ""), rollback.add,
            lambda step: self._report(step, f"preparing project storage ({repo.base_volume})" if step == "project" else ""))

        common |= {L.START: storage.start, L.BRANCH: storage.branch}
        types = choice_of(request.project_type) if request.project_type is not None else storage.detected
        common[L.PROJECT_TYPE] = key_of(types)
        own = self._own_environment(request, storage, limits)
        if own is not None:
            common[L.PROJECT_TYPE] = own.definition.label
            agent_image, dev_image = own.agent, own.dev
        else:
            agent_image, dev_image = self._environment(types, request, agent_image, dev_image)
        launch = Launch(taskspace, common, limits, agent_image, dev_image, storage)
        dev_port, agent_port = self.launch(launch, rollback)
        self._post_create(taskspace, own.definition if own else None)

        self._report("register")
        created = datetime.now(timezone.utc)
        fields = {"status": "running", "dev_port": dev_port, "agent_port": agent_port,
                  "project": repo.project, "repo": repo.source, "tier": tier,
                  "security": request.security, "created": created.isoformat(timespec="seconds"),
                  "last_activity": created.isoformat(timespec="seconds"), "stopped_by_user": False,
                  "memory_limit": limits.memory, "cpu_millis": limits.cpu, "storage_limit": limits.storage,
                  "create_id": self.mark.get(L.CREATE), "start": storage.start, "branch": storage.branch,
                  "ref": request.ref or None}
        self.ctx.forget_host_keys(taskspace)
        self.ctx.registry.put(taskspace, fields, after=self.ctx.write_ssh_config)
        return Taskspace(id=taskspace, status="running", project=repo.project, repo=repo.source,
                         tier=tier, security=request.security, dev_port=dev_port,
                         agent_port=agent_port, created=created, last_activity=fields["last_activity"],
                         start=storage.start, branch=storage.branch, project_type=common[L.PROJECT_TYPE])

    def _own_environment(self, request: CreateRequest, storage: Storage, limits: Limits) -> RepositoryEnvironment | None:
        """The images of the repository's own Containerfile or devcontainer.json, if it has one
        and neither --project-type nor --image says otherwise (the environment step is then said)."""
        candidates = find_definitions(dict((n, k) for n, k, _ in storage.root), self.ctx.settings.images.definition)
        if not candidates:
            return None
        if request.project_type is not None or request.image is not None:
            self.notes.append(f"the repository's {candidates[0]} is not used: "
                              + ("--project-type" if request.project_type is not None else "--image") + " chose the images")
            return None
        self._report("environment", f"the repository's own environment ({candidates[0]})")
        self._said_environment = True
        own = self.backend.repository_environment(storage, self.ctx.paths, self.ctx.settings, self._build_line,
                                                  network=request.security == "open", memory=limits.memory)
        if own is not None:
            for note in own.definition.notes:
                self._build_line(f"{own.definition.path}: {note}")
                self.notes.append(f"{own.definition.path}: {note}")
            self._build_line(f"dev image {own.dev}, agent image {own.agent}")
        return own

    def _post_create(self, taskspace: str, definition: Definition | None) -> None:
        """postCreateCommand, once, in the dev container as its user; its output is said under
        the step, and a failure fails the create (which is then undone)."""
        if definition is None or not definition.post_create:
            self._report("post-create", "no postCreateCommand to run")
            return
        self._report("post-create", f"running {definition.path}'s postCreateCommand")
        for command in definition.post_create:
            done = self.backend.run_in(container_name(taskspace, "dev"), command, "developer")
            lines = [printable(line)[:300] for line in (done.stdout + done.stderr).splitlines() if line.strip()]
            for line in lines[-20:]:
                self.progress(CreateProgress(self._step, len(STEPS), "post-create", "  " + line))
            if done.exit_code != 0:
                raise SymposiumError(f"the repository's postCreateCommand failed (exit code {done.exit_code}): "
                                     + (" | ".join(lines[-5:]) or "no output"),
                                     hint=f"fix it in {definition.path}; nothing of the taskspace is left")

    def _environment(self, types: tuple[str, ...], request: CreateRequest, agent_image: str,
                     dev_image: str) -> tuple[str, str]:
        """The images with the project's toolchains (built on first use, with progress; the
        names config.yaml gives are used as they are); --image still names the dev image."""
        key = key_of(types)
        how = "detected" if request.project_type is None else "asked for"
        say = self._build_line if self._said_environment else lambda text: self._report("environment", text)
        if not types:
            say(f"the dev environment: no toolchain {how}; {dev_image}")
            return agent_image, dev_image
        agent, dev = self.ctx.settings.images.for_key(key)
        say(f"the {key} environment ({how}): {dev}")
        if any(k == key for k, _, _ in self.ctx.settings.images.toolchains):  # named: never built
            needed = {"agent": agent} | ({} if request.image else {"dev": dev})
            for role, image in needed.items():
                if self.backend.image(image) is None:
                    raise SymposiumError(f"the {role} image {image} of the {key} environment is not in "
                                         "the engine", hint=f"podman pull {image}")
        else:
            agent, dev = self.backend.environment_images(types, self.ctx.paths, self.ctx.settings, self._build_line)
        return agent, request.image or dev

    def _build_line(self, line: str) -> None:
        """A line of an image build, said under the environment step."""
        self.progress(CreateProgress(self._step, len(STEPS), "environment", "  " + line))

    def launch(self, launch: Launch, rollback: Rollback) -> tuple[int, int]:
        """Network, pod and containers on existing volumes, up to SSH answering in both
        containers; returns (dev port, agent port). Also how a security change recreates a pod."""
        taskspace = launch.taskspace
        self._report("network")
        network = TaskspaceNetwork(self.ctx).set_up(taskspace, launch.security, rollback.add, self.mark)

        def agent_files(dev_port: int, agent_port: int) -> dict[str, Path]:
            """Once the ports are known, before the agent's container is made."""
            facts = self._taskspace_facts(taskspace, launch.labels, (dev_port, agent_port))
            rollback.add("taskspace facts", lambda: self.ctx.remove_taskspace_files(taskspace))
            config, auth, context = self.ctx.agent_mounts()
            files = {"config.yaml": config, "auth": auth, "context": context, "taskspace.yaml": facts}
            if (task := self.ctx.taskspace_dir(taskspace) / "task.md").is_file():
                files["task.md"] = task  # copied into the agent state when the agent first starts
            return files
        ports = self.backend.launch(LaunchSpec(
            taskspace, launch.labels, launch.limits, launch.agent_image, launch.dev_image, launch.storage,
            agent_files, network=network, mark=self.mark), rollback.add, self.ctx.repair_report(taskspace),
            self._report)
        TaskspaceNetwork(self.ctx).refuse_inside(taskspace, launch.security)
        return ports

    def _taskspace_facts(self, taskspace: str, labels: dict[str, str], ports: tuple[int, int]) -> Path:
        path = self.ctx.taskspace_dir(taskspace) / "taskspace.yaml"
        document = {"taskspace": taskspace, "project": labels.get(L.PROJECT), "repo": labels.get(L.REPO),
                    "tier": labels.get(L.TIER), "project_type": labels.get(L.PROJECT_TYPE),
                    "security": labels.get(L.SECURITY), "start": labels.get(L.START),
                    "branch": labels.get(L.BRANCH),
                    "ports": {"dev": ports[0], "agent": ports[1]}}
        atomic_write(path, yaml.safe_dump(document, sort_keys=False), mode=0o644)
        return path
