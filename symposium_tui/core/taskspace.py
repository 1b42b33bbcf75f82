"""Taskspace records and the engine-neutral specs the lifecycle service asks the engine for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from symposium_tui.core.models import (
    ContainerInfo,
    ContainerStats,
    EngineEvent,
    EngineInfo,
    ExecResult,
    HostCapacity,
    ImageInfo,
    NetworkInfo,
    PodInfo,
    VolumeInfo,
)
from symposium_tui.core.security import AllowRule, FirewallPlan

DEV_SSH_PORT = 2222
AGENT_SSH_PORT = 2223
CONTAINER_UID = 1000  # `developer` and `agent` in the default images

ROLES = ("pod", "agent", "dev", "project-base", "project-disk", "project", "workspace", "agent-state",
         "build-cache", "network")
# Removed with the taskspace, in this order: views before what they are views of.
REMOVED_WITH_TASKSPACE = ("workspace", "build-cache", "project", "project-disk")
BUILD_CACHE_DIRS = {
    "rust": ("target", "registry"),
    "node": ("node_modules", "npm"),
    "python": ("pip", "pycache"),
    "none": (),
}
PROJECT_TYPES = tuple(BUILD_CACHE_DIRS)
SECURITY_LEVELS = ("isolated", "restricted", "open")
# The pod's infra container mounts the project volume (read-only, here; the containers inherit it):
# the workspace overlay's upper layer lives on its file system, so it must be mounted before any
# container mounts the workspace, and podman mounts one container's volumes in no fixed order.
PROJECT_MOUNT = "/.symposium/project"


@dataclass(frozen=True)
class VolumeMount:
    name: str
    destination: str
    read_only: bool = False


@dataclass(frozen=True)
class BindMount:
    source: str
    destination: str
    read_only: bool = True


@dataclass(frozen=True)
class PodSpec:
    name: str
    hostname: str
    labels: dict[str, str]
    ports: tuple[int, ...]
    memory: int
    cpu_millis: int
    volumes: tuple[VolumeMount, ...] = ()  # the infra container's: mounted first, inherited by all
    network: str | None = None  # None: podman's default network


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    labels: dict[str, str]
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    labels: dict[str, str]
    pod: str | None = None
    volumes: tuple[VolumeMount, ...] = ()
    binds: tuple[BindMount, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    network: str | None = None  # for throwaway containers: "none" or None (default)
    memory: int | None = None  # the container's own limits, so its processes read them
    cpu_millis: int | None = None
    user: str | None = None  # uid[:gid] the command runs as (None: the image's user)


class EventFeed(Protocol):
    """Engine events as they happen; close() from another thread ends the iteration."""

    def __iter__(self) -> Iterator[EngineEvent]: ...
    def close(self) -> None: ...

class LifecycleEngine(Protocol):
    """What the lifecycle service needs from an engine; the podman adapter provides it."""

    local: bool  # on this machine: its bind mounts, cgroups and loopback ports are ours to use
    def info(self) -> EngineInfo: ...
    def capacity(self) -> HostCapacity: ...
    def image(self, name: str) -> ImageInfo | None: ...
    def pods(self, selector: dict[str, str] | None = None) -> list[PodInfo]: ...
    def containers(self, selector: dict[str, str] | None = None) -> list[ContainerInfo]: ...
    def volumes(self, selector: dict[str, str] | None = None) -> list[VolumeInfo]: ...
    def pod(self, name: str) -> PodInfo | None: ...
    def volume(self, name: str) -> VolumeInfo | None: ...
    def container(self, name: str) -> ContainerInfo | None: ...
    def create_pod(self, spec: PodSpec) -> PodInfo: ...
    def pod_ports(self, name: str) -> dict[int, int]: ...
    def start_pod(self, name: str) -> None: ...
    def stop_pod(self, name: str, timeout: int = 10) -> None: ...
    def restart_pod(self, name: str) -> None: ...
    def remove_pod(self, name: str) -> None: ...
    def create_volume(self, spec: VolumeSpec) -> VolumeInfo: ...
    def remove_volume(self, name: str) -> None: ...
    def create_container(self, spec: ContainerSpec) -> str: ...
    def start_container(self, name: str) -> None: ...
    def remove_container(self, name: str) -> None: ...
    def run(self, spec: ContainerSpec, timeout: float = 600.0, files: dict[str, Path] | None = None,
            files_dir: str = "/") -> ExecResult: ...
    def copy_into(self, container: str, directory: str, files: dict[str, Path]) -> None: ...
    def ssh_answers(self, port: int) -> bool: ...
    def ssh_why_not(self, port: int, timeout: float = 1.0) -> str | None: ...
    def exec(self, container: str, command: list[str], user: str | None = None) -> ExecResult: ...
    def logs(self, container: str, tail: int = 200, timestamps: bool = False) -> list[str]: ...
    def stats(self) -> list[ContainerStats]: ...
    def restart_container(self, name: str, timeout: int = 2) -> None: ...
    def set_pod_limits(self, name: str, memory: int, cpu_millis: int) -> str: ...
    def pod_limits(self, name: str) -> tuple[int | None, int | None]: ...
    def update_container(self, name: str, memory: int, cpu_millis: int) -> None: ...
    def volume_sizes(self, volumes: list[VolumeInfo] | None = None) -> dict[str, int]: ...
    def disk_space(self, volumes: list[VolumeInfo]) -> dict[str, tuple[int, int]]: ...
    def generate_kube(self, pod: str) -> str: ...
    def events(self, since: float | None = None) -> EventFeed: ...
    def networks(self, selector: dict[str, str] | None = None) -> list[NetworkInfo]: ...
    def network(self, name: str) -> NetworkInfo | None: ...
    def create_network(self, name: str, labels: dict[str, str]) -> NetworkInfo: ...
    def remove_network(self, name: str) -> None: ...
    def firewall_unavailable(self) -> str | None: ...
    def resolve_allowed(self, rules: tuple[AllowRule, ...]) -> tuple[tuple[str, int | None, str], ...]: ...
    def apply_firewall(self, plan: FirewallPlan) -> None: ...
    def firewall_present(self, plan: FirewallPlan) -> bool: ...
    def refuse_inside(self, pod: str, plan: FirewallPlan) -> None: ...
    def remove_firewall(self, taskspace: str) -> int: ...
    def firewall_taskspaces(self) -> set[str]: ...



@dataclass(frozen=True)
class Taskspace:
    """One taskspace as a unit: what the engine shows, joined with what the registry remembers."""

    id: str
    status: str  # running, stopped, degraded, missing, creating
    project: str = ""
    repo: str = ""
    tier: str = ""
    security: str = ""
    dev_port: int | None = None
    agent_port: int | None = None
    created: datetime | None = None
    last_activity: str | None = None
    drift: str = ""
    reason: str = ""
    containers: dict[str, ContainerInfo] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "status": self.status, "project": self.project, "repo": self.repo,
            "tier": self.tier, "security": self.security, "dev_port": self.dev_port,
            "agent_port": self.agent_port,
            "created": self.created.isoformat() if self.created else None,
            "last_activity": self.last_activity, "drift": self.drift or None,
            "reason": self.reason or None,
            "containers": {role: c.state.value for role, c in sorted(self.containers.items())},
        }
