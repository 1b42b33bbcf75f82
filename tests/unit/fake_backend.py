"""An in-memory TaskspaceBackend for the pure-logic tests of gc and of the level change's journal
and recovery: pods, containers, volumes and networks as lists, labels as the podman backend sets
them. A test makes it fail, or "die" (raise Killed, with no undo recorded, as kill -9 would leave
things), at a chosen call."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.backend import Generation, Observation, Storage
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name
from symposium_tui.core.models import ContainerInfo, ContainerState, ExecResult, NetworkInfo, PodInfo, VolumeInfo

ROLES = ("project-disk", "project", "workspace", "agent-state", "build-cache")


class Killed(BaseException):
    """The process died here (kill -9): nothing after it runs, no rollback either."""


class FakeBackend:
    name = "fake"
    local = True
    reaches_ports = True

    def __init__(self) -> None:
        self.pods: list[PodInfo] = []
        self.containers: list[ContainerInfo] = []
        self.volumes: list[VolumeInfo] = []
        self.networks: list[NetworkInfo] = []
        self.work: dict[str, ExecResult] = {}  # what the work check prints, by taskspace
        self.failing_levels: set[str] = set()  # launch refuses these levels
        self.launches: list[str] = []  # the level of every launch asked for
        self.bases: dict[str, list[Generation]] = {}  # a base volume's generations
        self.ports: dict[str, tuple[int, int]] = {}  # the (dev, agent) ports of each taskspace's pod
        self.before: dict[str, Callable[[str, str], None]] = {}  # call name -> hook(kind or level, name)
        self._ports = count(40000, 2)

    # -- set-up ----------------------------------------------------------------------------------
    def add_taskspace(self, taskspace: str, level: str = "open", running: bool = True) -> None:
        for role in ROLES:
            self.volumes.append(VolumeInfo(f"taskspace-{taskspace}-{role}", "/x", L.ours(role, taskspace)))
        labels = {L.SECURITY: level, L.PROJECT: "demo", L.TIER: "minimal", L.CREATED: "2026-01-01T00:00:00+00:00"}
        self._make(taskspace, labels, {}, running)
        if level != "open":
            self.networks.append(NetworkInfo(f"taskspace-{taskspace}-net", "sym00000001",
                                             labels=L.ours("network", taskspace)))

    def storage(self, taskspace: str) -> Storage:
        return Storage(*(f"taskspace-{taskspace}-{r}" for r in ("project", "workspace", "agent-state", "build-cache")))

    def _make(self, taskspace: str, labels: dict[str, str], mark: dict[str, str], running: bool) -> tuple[int, int]:
        pod = pod_name(taskspace)
        self.pods.append(PodInfo(f"id-{pod}", pod, "Running", labels | L.ours("pod", taskspace) | mark))
        dev, agent = self.ports[taskspace] = next(self._ports), next(self._ports)
        state = ContainerState.RUNNING if running else ContainerState.EXITED
        for role in ("agent", "dev"):
            self.containers.append(ContainerInfo(f"id-{pod}-{role}", f"{pod}-{role}", f"{role}:latest", state,
                                                 labels | L.ours(role, taskspace) | mark, pod_name=pod))
        return dev, agent

    # -- observe ---------------------------------------------------------------------------------
    def observe(self, selector: dict[str, str] | None = None,
                kinds: tuple[str, ...] = ("pods", "containers", "volumes", "networks")) -> Observation:
        def picked(things: list) -> tuple:
            return tuple(t for t in things if all(t.labels.get(k) == v for k, v in (selector or {}).items()))
        return Observation(*(picked(getattr(self, kind)) if kind in kinds else ()
                             for kind in ("pods", "containers", "volumes", "networks")))

    def find(self, kind: str, name: str):  # noqa: ANN201
        things = {"pod": self.pods, "container": self.containers, "volume": self.volumes, "network": self.networks}
        return next((t for t in things[kind] if t.name == name), None)

    # -- run -------------------------------------------------------------------------------------
    def remove(self, kind: str, name: str) -> None:
        if hook := self.before.get("remove"):
            hook(kind, name)
        if kind == "pod":
            self.containers = [c for c in self.containers if c.pod_name != name]
        attribute = {"pod": "pods", "container": "containers", "volume": "volumes", "network": "networks"}[kind]
        setattr(self, attribute, [t for t in getattr(self, attribute) if t.name != name])

    def removal_commands(self, kind: str, names: list[str]) -> list[str]:
        return [f"fake rm {kind} {name}" for name in names]

    def stop(self, taskspace: str, timeout: int = 10) -> None:
        self.containers = [ContainerInfo(c.id, c.name, c.image, ContainerState.EXITED, c.labels, pod_name=c.pod_name)
                           if c.labels.get(L.TASKSPACE) == taskspace else c for c in self.containers]

    def launch(self, spec, undo, report, step) -> tuple[int, int]:  # noqa: ANN001
        level = spec.labels.get(L.SECURITY, "open")
        self.launches.append(level)
        if hook := self.before.get("launch"):
            hook(level, spec.taskspace)
        step("pod")
        if level in self.failing_levels:
            raise SymposiumError(f"the fake engine cannot make a {level} pod")
        ports = self._make(spec.taskspace, spec.labels, spec.mark, True)
        if hook := self.before.get("launched"):
            hook(level, spec.taskspace)  # a Killed here leaves the pod without an undo, as kill -9 would
        undo("pod", lambda: self.remove("pod", pod_name(spec.taskspace)))
        spec.agent_files(*ports)
        for name in ("agent", "agent-ready", "dev", "dev-ready"):
            step(name)
        return ports

    # -- the network level -----------------------------------------------------------------------
    def firewall_unavailable(self) -> str | None:
        return None

    def make_network(self, taskspace, level, allow, undo, labels=None):  # noqa: ANN001, ANN201
        if level == "open":
            return None
        network = NetworkInfo(f"taskspace-{taskspace}-net", "sym00000001",
                              labels=L.ours("network", taskspace) | (labels or {}))
        self.networks.append(network)
        undo("network", lambda: self.remove("network", network.name))
        return network.name

    def keep_network(self, taskspace, level, allow) -> bool:  # noqa: ANN001
        return False

    def refuse_inside(self, taskspace, level, allow) -> None:  # noqa: ANN001
        pass

    def remove_network(self, taskspace: str, networks: tuple[NetworkInfo, ...]) -> list[str]:
        for network in networks:
            self.remove("network", network.name)
        return [n.name for n in networks]

    # -- workspaces and storage ------------------------------------------------------------------
    def run_in_workspaces(self, workspaces, command, user, image):  # noqa: ANN001, ANN201
        return {t: self.work.get(t, ExecResult(0, "--uncommitted\n--unpushed\n", ""))
                for t, inventory in workspaces.items() if inventory.volume("workspace") is not None}

    def generations(self, base: str, image: str) -> list[Generation]:
        return list(self.bases.get(base, []))

    def remove_generation(self, base: str, commit: str, image: str) -> None:
        self.bases[base] = [g for g in self.bases.get(base, []) if g.commit != commit]

    def written(self, containers=None) -> dict[str, int]:  # noqa: ANN001
        return {}

    def volume_sizes(self, volumes=None) -> dict[str, int]:  # noqa: ANN001
        return {v.name: 1000 for v in (volumes or self.volumes)}


def fake_context(monkeypatch: pytest.MonkeyPatch, home: Path, backend: FakeBackend):
    """A LifecycleContext on the fake backend whose every file lives under `home`."""
    from symposium_tui.core.config import Settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.services.context import LifecycleContext

    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(home / var.lower()))
    return LifecycleContext(backend, app_paths(), Settings())


def uncommitted(*files: str) -> ExecResult:
    return ExecResult(0, "--uncommitted\n" + "".join(f" M {f}\n" for f in files) + "--unpushed\n", "")
