"""The seam between what the product decides and how an engine does it.

core/services decide: validation, locks, the create journal and rollback, tiers and policy, the
registry and SSH config, health rules, cleanup plans. A backend does: it turns "a taskspace with
this storage, these limits, this network level" into its engine's objects, and reads them back.
Everything here is at the size of a taskspace; what a pod, a volume driver, a cgroup file or an
iptables chain is, only the backend knows. symposium_tui/backends/ has one package per backend
(podman today) and chooses one by the engine URL's scheme.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerStats,
    EngineEvent,
    EngineInfo,
    ExecResult,
    HostCapacity,
    ImageInfo,
    NetworkInfo,
    PathStat,
    PodInfo,
    VolumeInfo,
)
from symposium_tui.core.policy import Limits

if TYPE_CHECKING:
    from symposium_tui.core.config import Settings
    from symposium_tui.core.definition import Definition
    from symposium_tui.core.paths import AppPaths
from symposium_tui.core.repos import RepoSpec
from symposium_tui.core.security import AllowRule

# (what, how to take it away): a failed operation's undo list (services.rollback.Rollback.add).
Undo = Callable[[str, Callable[[], None]], None]
# A repair the backend made on its own while waiting: (the object restarted, why, the result, what
# to tell the person); core logs it in restarts.log beside the poller's own.
RepairReport = Callable[..., None]


@dataclass(frozen=True)
class Observation:
    """What the engine holds of the product's objects (all, or those a selector picks)."""

    pods: tuple[PodInfo, ...] = ()
    containers: tuple[ContainerInfo, ...] = ()
    volumes: tuple[VolumeInfo, ...] = ()
    networks: tuple[NetworkInfo, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """One taskspace's objects."""

    pod: PodInfo | None
    containers: tuple[ContainerInfo, ...]
    volumes: tuple[VolumeInfo, ...]
    networks: tuple[NetworkInfo, ...] = ()

    @property
    def empty(self) -> bool:
        return self.pod is None and not self.containers and not self.volumes and not self.networks

    @property
    def security(self) -> str:
        return (self.pod.labels.get(L.SECURITY) if self.pod else None) or "open"

    def volume(self, role: str) -> VolumeInfo | None:
        return next((v for v in self.volumes if v.labels.get(L.ROLE) == role), None)


@dataclass(frozen=True)
class StorageRequest:
    """A new taskspace's storage: its writable project disk of `size` bytes, agent state (kept
    from an earlier taskspace of the id), build cache, the repository's shared base and the
    copy-on-write workspace of the base both containers mount."""

    taskspace: str
    repo: RepoSpec
    size: int
    image: str  # the image the preparation runs in (it has git)
    labels: dict[str, str]  # put on everything made (the create's mark)
    git_identity: dict[str, str] = field(default_factory=dict)  # name, email for the taskspace's repo
    base_lock: Callable[[str], AbstractContextManager[None]] | None = None  # held while a base is made
    # Where it starts: a commit id for a local repository (resolved there), a branch or tag name or
    # "" (the default branch) for a URL, resolved by the backend as it fetches.
    ref: str = ""
    branch: str = ""  # the branch made at the start commit and checked out ("": taskspace/ID)


@dataclass(frozen=True)
class Generation:
    """One generation of a repository's shared base: its files at one commit, never changed once
    made (copy-on-write workspaces read it), sharing what is the same with the others."""

    base: str  # the base it is part of
    commit: str
    bytes: int  # what removing it would free (what it shares with other generations is not counted)
    users: tuple[str, ...]  # taskspaces whose workspace reads it


@dataclass(frozen=True)
class Storage:
    """A taskspace's storage as the backend made it (names a later launch passes back)."""

    layer: str  # the project disk's file system: the workspace's writes and the build cache
    workspace: str
    state: str
    cache: str
    start: str = ""  # the commit the workspace starts from
    branch: str = ""
    detected: tuple[str, ...] = ()  # the toolchains the files at the start commit's root call for
    base: str = ""  # the repository's shared base it reads
    root: tuple[tuple[str, str, str], ...] = ()  # the start commit's root: (name, blob or tree, git id)
    tree: str = ""  # the start commit's tree id

    @property
    def volumes(self) -> tuple[str, ...]:
        return (self.layer, self.workspace, self.state, self.cache)


@dataclass(frozen=True)
class RepositoryEnvironment:
    """The images made from a repository's own definition of its environment."""

    definition: Definition
    agent: str
    dev: str


@dataclass(frozen=True)
class LaunchSpec:
    """What a taskspace's running parts are made from: its storage exists already."""

    taskspace: str
    labels: dict[str, str]  # project, repo, tier, security level, project type, creation time
    limits: Limits
    agent_image: str
    dev_image: str
    storage: Storage
    # /agent/NAME in the agent container, read-only; given the (dev, agent) ports once they are known
    agent_files: Callable[[int, int], dict[str, Path]]
    network: str | None = None  # the taskspace's own network (ensure_network), None: the default
    mark: dict[str, str] = field(default_factory=dict)  # labels of the operation in progress


@dataclass(frozen=True)
class SignalCursor:
    """How far a reader got in one signals file: that file (inode), the bytes consumed, and its
    size and change time then (the same three again: nothing new to read)."""

    inode: int
    offset: int
    size: int
    mtime: float


@dataclass(frozen=True)
class AgentFiles:
    """What one taskspace's agent state says, read without following a link or opening anything
    but a regular file: raw bytes, for core.agent to parse."""

    status: bytes | None = None  # logs/agent.status
    output_at: float | None = None  # when logs/agent-output.log last changed
    signals: bytes = b""  # whole lines of signals.jsonl after the cursor given
    cursor: SignalCursor | None = None  # where the next read goes on from
    fresh: bool = False  # a new file, or the first read: `signals` are its newest lines, not news


@dataclass(frozen=True)
class Felt:
    """Limits as a container's processes read them from their cgroup (None: unlimited)."""

    memory: int | None
    cpu_millis: int | None


class EventFeed(Protocol):
    """Engine events as they happen; close() from another thread ends the iteration."""

    def __iter__(self) -> Iterator[EngineEvent]: ...
    def close(self) -> None: ...


class LineFeed(Protocol):
    """A container's log lines as they come; close() from another thread ends the iteration."""

    def __iter__(self) -> Iterator[str]: ...
    def close(self) -> None: ...


class ContainerFiles(Protocol):
    """One container's files for a copy (`cp`): paths resolved inside the container."""

    def stat(self, path: str) -> PathStat | None: ...
    def read(self, path: str) -> BinaryIO: ...  # PATH as a tar stream (a link: its target, named as the link)
    def write(self, directory: str, body: BinaryIO) -> None: ...  # a tar stream unpacked at DIRECTORY


class TaskspaceBackend(Protocol):
    """What core asks of an engine, in thirteen groups of operations."""

    name: str  # "podman"
    local: bool  # on this machine: its bind mounts, file systems and loopback ports are ours to use
    reaches_ports: bool  # the ports it publishes on its host's loopback can be reached from here
    identity: str  # which engine of its host it is ("" the host's own), for the state they share

    # 1. the host
    def info(self) -> EngineInfo: ...
    def capacity(self) -> HostCapacity: ...
    def image(self, name: str) -> ImageInfo | None: ...

    # 2. observe: the product's objects, one taskspace's (by selector) or all
    def observe(self, selector: dict[str, str] | None = None,
                kinds: tuple[str, ...] = ("pods", "containers", "volumes", "networks")) -> Observation: ...
    def find(self, kind: str, name: str) -> PodInfo | ContainerInfo | VolumeInfo | NetworkInfo | None:
        """One object by kind and name, whoever made it (None: there is none)."""

    # 3. provision storage; `step` is told "volumes", then "project" as each begins
    def provision_storage(self, request: StorageRequest, undo: Undo, step: Callable[[str], None]) -> Storage: ...

    # ... and the images of an environment with these toolchains, built when missing: (agent, dev)
    def environment_images(self, types: tuple[str, ...], paths: AppPaths, settings: Settings,
                           progress: Callable[[str], None]) -> tuple[str, str]: ...

    # ... or of the repository's own definition at the start commit (None: it has none), its image
    #     built keyed by content with the product's layer on top; NETWORK: its build may connect out
    def repository_environment(self, storage: Storage, paths: AppPaths, settings: Settings,
                               progress: Callable[[str], None], *, network: bool,
                               memory: int) -> RepositoryEnvironment | None: ...

    # ... and a command in one running container as USER, in /workspace (postCreateCommand): an
    #     argument vector, or a string for the container's own /bin/sh
    def run_in(self, member: str, command: str | tuple[str, ...], user: str) -> ExecResult: ...

    # ... and one with this terminal on its end (stdin, stdout, stderr; a TTY when TTY), as USER
    #     in WORKDIR, through the engine (no SSH): the command's exit code
    def interactive(self, member: str, command: tuple[str, ...], user: str, workdir: str, tty: bool) -> int: ...
    # ... and its files, to copy in or out, running or stopped (stopped: PROJECT_DISK is the
    #     taskspace's project volume, which its workspace's overlay lives on)
    def files_of(self, member: str, writable: bool,
                 project_disk: VolumeInfo | None = None) -> AbstractContextManager[ContainerFiles]: ...

    # 4. launch, and wait until SSH answers in both containers: (dev port, agent port); `step` is
    #    told "pod", "agent", "agent-ready", "dev", "dev-ready" as each begins
    def launch(self, spec: LaunchSpec, undo: Undo, report: RepairReport,
               step: Callable[[str], None]) -> tuple[int, int]: ...

    # 5. run: start or restart (and wait for SSH), stop, restart one part, take things away
    def bring_up(self, taskspace: str, restart: bool, report: RepairReport) -> dict[int, int]: ...
    def stop(self, taskspace: str, timeout: int = 10) -> None: ...
    def restart_part(self, taskspace: str, part: str | None = None) -> None: ...
    def remove(self, kind: str, name: str) -> None: ...
    def removal_commands(self, kind: str, names: list[str]) -> list[str]: ...

    # 6. limits: set them (widen, set the members, narrow), read what the processes feel
    def apply_limits(self, taskspace: str, old: Limits, new: Limits, members: list[str]) -> str: ...
    def set_member_limits(self, member: str, limits: Limits) -> None: ...
    def taskspace_limits(self, taskspace: str) -> tuple[int | None, int | None]: ...
    def make_room(self, taskspace: str, memory: Callable[[], int]) -> None: ...
    def felt_limits(self, member: str) -> Felt: ...

    # 7. run a script in taskspaces' workspaces (a running dev container, else a probe)
    def run_in_workspaces(self, workspaces: dict[str, Inventory], command: tuple[str, ...], user: str,
                          image: str) -> dict[str, ExecResult | SymposiumError]: ...
    # ... and the bases' generations: which exist, and taking one no workspace reads away
    def generations(self, base: str, image: str) -> list[Generation]: ...
    def remove_generation(self, base: str, commit: str, image: str) -> None: ...

    # 8. measure storage: bytes used per volume; (used, free) of file systems mounted here
    def volume_sizes(self, volumes: list[VolumeInfo] | None = None) -> dict[str, int]: ...
    def disk_space(self, volumes: list[VolumeInfo]) -> dict[str, tuple[int, int]]: ...
    # per taskspace: what its containers wrote to their root file systems (given: these containers)
    def written(self, containers: list[ContainerInfo] | None = None) -> dict[str, int]: ...

    # 9. the network level: a network of the taskspace's own with its rules, kept and removed
    def firewall_unavailable(self) -> str | None: ...
    def make_network(self, taskspace: str, level: str, allow: tuple[AllowRule, ...], undo: Undo,
                     labels: dict[str, str] | None = None) -> str | None: ...
    def keep_network(self, taskspace: str, level: str, allow: tuple[AllowRule, ...]) -> bool: ...
    def refuse_inside(self, taskspace: str, level: str, allow: tuple[AllowRule, ...]) -> None: ...
    def remove_network(self, taskspace: str, networks: tuple[NetworkInfo, ...]) -> list[str]: ...
    def enforced_taskspaces(self) -> set[str]: ...

    # 10. health probes: SSH on a published port, and whether a silent one lost its forward
    def ssh_answers(self, port: int) -> bool: ...
    def port_forward_lost(self, member: str, port: int) -> str | None: ...

    # 11. stats, events, logs
    def stats(self) -> list[ContainerStats]: ...
    def events(self, since: float | None = None) -> EventFeed: ...
    def logs(self, member: str, tail: int = 200, timestamps: bool = False) -> list[str]: ...
    def follow_logs(self, member: str, since: float | None = None, timestamps: bool = False) -> LineFeed: ...

    # 12. the agent: its state files (on this machine read from the volume, no engine call; else
    #     through the engine, in its own container), and keys typed into its session
    def read_agent(self, taskspace: str, cursor: SignalCursor | None, budget: int = 65536) -> AgentFiles: ...
    def send_to_agent(self, taskspace: str, text: str, enter: bool = True) -> None: ...

    # 13. export: the taskspace as Kubernetes YAML, in the engine's own words
    def generate_kube(self, taskspace: str) -> str: ...
