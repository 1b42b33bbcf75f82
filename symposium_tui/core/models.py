"""Frozen domain records. The engine adapter builds them from podman's answers; nothing above the
adapter sees podman's raw JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class ContainerState(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    EXITED = "exited"
    DEAD = "dead"
    REMOVING = "removing"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> ContainerState:
        text = (value or "").strip().lower()
        # podman says "stopped" for a container whose process ended until its cleanup has run,
        # "exited" afterwards: one state, named one way whatever the moment it was looked at
        if text == "stopped":
            return cls.EXITED
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class EngineVersion:
    version: str
    api_version: str
    os: str = ""
    arch: str = ""

    @property
    def major_minor(self) -> tuple[int, int]:
        parts = [int(p) for p in self.version.split(".")[:2] if p.isdigit()]
        parts += [0] * (2 - len(parts))
        return parts[0], parts[1]


@dataclass(frozen=True)
class EngineInfo:
    """What the engine says about its host: enough to explain a failure to a person."""

    version: EngineVersion
    oci_runtime: str
    cgroup_manager: str
    cgroup_version: str
    graph_root: str
    volume_path: str
    rootless: bool
    network_backend: str = ""
    cpus: int = 0
    memory: int = 0
    backing_fs: str = ""


@dataclass(frozen=True)
class PortBinding:
    container_port: int
    host_ip: str
    host_port: int
    protocol: str = "tcp"


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: ContainerState
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    pod_id: str = ""
    pod_name: str = ""
    is_infra: bool = False
    exit_code: int | None = None
    created: datetime | None = None
    started: datetime | None = None
    ports: tuple[PortBinding, ...] = ()
    finished: datetime | None = None
    created_cpu_millis: int | None = None  # the CPU quota it was created with (inspect only)

    @property
    def running(self) -> bool:
        return self.state is ContainerState.RUNNING


@dataclass(frozen=True)
class PathStat:
    """A path in a container as the engine's archive endpoint sees it (links followed there)."""

    name: str
    size: int
    is_dir: bool
    is_link: bool  # the path itself is a link (its target, inside the container, is what is copied)
    target: str  # the path the engine resolved it to, inside the container


@dataclass(frozen=True)
class PodInfo:
    id: str
    name: str
    status: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    created: datetime | None = None
    container_ids: tuple[str, ...] = ()
    member_states: tuple[tuple[str, str], ...] = ()  # (container id, status), from the pods list


@dataclass(frozen=True)
class ImageInfo:
    id: str
    names: tuple[str, ...]
    size: int
    created: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    mountpoint: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    created: datetime | None = None
    options: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_loop(self) -> bool:
        """A file system in a file, loop-mounted by podman (a taskspace's project disk)."""
        return "loop" in self.options.get("o", "").split(",")

    @property
    def is_bind(self) -> bool:
        """A view of a folder in another volume (the build cache on the project disk)."""
        return "bind" in self.options.get("o", "").split(",")


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str


class CheckStatus(str, Enum):
    OK = "ok"
    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True)
class CheckResult:
    """One line of `doctor`: what was checked, what was found, and how to fix it."""

    name: str
    status: CheckStatus
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not CheckStatus.FAIL

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "name": self.name,
            "status": self.status.value,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class ContainerStats:
    """One raw sample of a running container, from the batch stats call."""

    id: str
    name: str
    cpu_nano: int  # CPU time used since start, ns
    system_nano: int  # wall clock at the sample, ns
    mem_usage: int
    mem_limit: int
    net_in: int
    net_out: int
    pids: int
    avg_cpu: float = 0.0  # podman's average CPU % since start (host-wide)


@dataclass(frozen=True)
class EngineEvent:
    """A container event we care about: start, died, exec, restart ..."""

    action: str
    container_id: str
    container_name: str
    taskspace: str
    role: str
    time: datetime | None
    exit_code: int | None = None


@dataclass(frozen=True)
class HostCapacity:
    """What create and adjust check a request against."""

    cpus: int
    memory: int  # bytes
    rootless: bool


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    interface: str  # the bridge on the host
    subnets: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    internal: bool = False
