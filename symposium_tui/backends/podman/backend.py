"""PodmanBackend: core's TaskspaceBackend on a podman engine. Its parts (storage, launch, limits,
workspaces, network level, readiness) are in the modules beside it; `engine` is the adapter of
podman's REST API (adapter.Engine) they all drive."""

from __future__ import annotations

from collections.abc import Callable

from symposium_tui.backends.podman.agentstate import AgentState
from symposium_tui.backends.podman.connection import ROOTFUL_SOCKET
from symposium_tui.backends.podman.launch import bring_up, launch
from symposium_tui.backends.podman.limits import PodmanLimits
from symposium_tui.backends.podman.netlevel import PodmanNetworkLevel
from symposium_tui.backends.podman.readiness import port_forward_lost
from symposium_tui.backends.podman.specs import PodmanEngine
from symposium_tui.backends.podman.storage import PodmanBases, ProjectStorage
from symposium_tui.backends.podman.workspaces import PodmanWorkspaces
from symposium_tui.backends.podman.copying import PodmanCopying
from symposium_tui.core.backend import (
    AgentFiles,
    EventFeed,
    LaunchSpec,
    LineFeed,
    Observation,
    RepairReport,
    RepositoryEnvironment,
    SignalCursor,
    Storage,
    StorageRequest,
    Undo,
)
from symposium_tui.core.errors import UsageError
from symposium_tui.core.ids import pod_name
from symposium_tui.core import labels as L
from symposium_tui.core import models as m

KINDS = ("pods", "containers", "volumes", "networks")
# A command run in a taskspace's container (run_in): in the workspace, at most 15 minutes where
# the image has coreutils' timeout.
# "--shell TEXT": TEXT is a command line for the container's /bin/sh.
RUN_IN = ('cd /workspace || exit 1; t=; if command -v timeout >/dev/null 2>&1; then t="timeout 900"; fi; '
          'if [ "$1" = --shell ]; then exec $t /bin/sh -c "$2"; fi; exec $t "$@"')


class PodmanBackend(PodmanLimits, PodmanWorkspaces, PodmanNetworkLevel, PodmanBases, PodmanCopying):
    name = "podman"

    def __init__(self, engine: PodmanEngine) -> None:
        self.engine = engine
        self.local = bool(getattr(engine, "local", False))
        self.reaches_ports = bool(getattr(engine, "reaches_ports", True))
        self._agent = AgentState(engine)

    @property
    def identity(self) -> str:
        """Which of this machine's engines it is, for the state they share ("" the machine's own:
        the rootful socket or the service the product starts on the default store); a socket named
        by URL is another engine (its own store), keyed by its URL."""
        uri = str(getattr(self.engine, "uri", ""))
        if not uri.startswith("unix://") or uri == f"unix://{ROOTFUL_SOCKET}" or \
                getattr(self.engine, "source", "") == "embedded service" or \
                getattr(self.engine, "tunnel", None) is not None:  # another host's, through SSH: its own state
            return ""
        return uri

    @property
    def calls(self) -> int:
        """Engine calls made so far (the poller's snapshots and the benchmarks count them)."""
        return int(getattr(self.engine, "calls", 0))

    # -- the host ---------------------------------------------------------------------------------
    def info(self) -> m.EngineInfo:
        return self.engine.info()

    def capacity(self) -> m.HostCapacity:
        return self.engine.capacity()

    def image(self, name: str) -> m.ImageInfo | None:
        return self.engine.image(name)

    # -- observe ----------------------------------------------------------------------------------
    def observe(self, selector: dict[str, str] | None = None, kinds: tuple[str, ...] = KINDS) -> Observation:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise UsageError(f"unknown kinds of objects: {', '.join(sorted(unknown))}")
        return Observation(**{kind: tuple(getattr(self.engine, kind)(selector)) for kind in kinds})

    # -- storage, launch, run ---------------------------------------------------------------------
    def find(self, kind: str, name: str) -> m.PodInfo | m.ContainerInfo | m.VolumeInfo | m.NetworkInfo | None:
        finders = {"pod": self.engine.pod, "container": self.engine.container, "volume": self.engine.volume,
                   "network": self.engine.network}
        if kind not in finders:
            raise UsageError(f"unknown kind of object {kind!r}")
        return finders[kind](name)

    def provision_storage(self, request: StorageRequest, undo: Undo, step: Callable[[str], None]) -> Storage:
        return ProjectStorage(self.engine, request, undo).provision(step)

    def environment_images(self, types: tuple[str, ...], paths, settings,  # noqa: ANN001
                           progress: Callable[[str], None]) -> tuple[str, str]:
        """The agent and dev images of an environment with these toolchains, built when missing
        or out of date (its root file system is cached, so again only the images are made)."""
        from symposium_tui.backends.podman.images import ImageBuilder

        steps = {s.role: s.image for s in ImageBuilder(self.engine, paths, settings, progress).build_for(types)}
        return steps["agent"], steps["dev"]

    def repository_environment(self, storage: Storage, paths, settings, progress: Callable[[str], None], *,  # noqa: ANN001
                               network: bool, memory: int) -> RepositoryEnvironment | None:
        """The images of the repository's own Containerfile or devcontainer.json (backends/podman/definition.py)."""
        from symposium_tui.backends.podman.definition import RepositoryImages, RepositoryReader, read_definition
        from symposium_tui.backends.podman.images import ImageBuilder

        with RepositoryReader(self.engine, storage.base, storage.start, settings.images.agent) as reader:
            found = read_definition(reader, storage, settings.images.definition)
            if found is None:
                return None
            progress(f"the repository's {found.path} defines the environment")
            builder = ImageBuilder(self.engine, paths, settings, progress)
            return RepositoryImages(self.engine, builder, progress).environment(
                reader, storage, found, network=network, memory=memory)

    def run_in(self, member: str, command: str | tuple[str, ...], user: str) -> m.ExecResult:
        argv = ("--shell", command) if isinstance(command, str) else command
        return self.engine.exec(member, ["/bin/sh", "-c", RUN_IN, "symposium-run", *argv], user=user)

    def interactive(self, member: str, command: tuple[str, ...], user: str, workdir: str, tty: bool) -> int:
        return self.engine.exec_interactive(member, list(command), user=user, workdir=workdir, tty=tty)

    def launch(self, spec: LaunchSpec, undo: Undo, report: RepairReport,
               step: Callable[[str], None]) -> tuple[int, int]:
        return launch(self.engine, spec, undo, report, step)

    def bring_up(self, taskspace: str, restart: bool, report: RepairReport) -> dict[int, int]:
        return bring_up(self.engine, taskspace, restart, report)

    def stop(self, taskspace: str, timeout: int = 10) -> None:
        self.engine.stop_pod(pod_name(taskspace), timeout)

    def restart_part(self, taskspace: str, part: str | None = None) -> None:
        """One container of the taskspace (its name), or the whole taskspace (None)."""
        if part is None:
            self.engine.restart_pod(pod_name(taskspace))
        else:
            self.engine.restart_container(part)

    def remove(self, kind: str, name: str) -> None:
        """One object of a taskspace, by kind (pod, container, volume, network) and name."""
        removers = {"pod": self.engine.remove_pod, "container": self.engine.remove_container,
                    "volume": self.engine.remove_volume, "network": self.engine.remove_network}
        if kind not in removers:
            raise UsageError(f"unknown kind of object {kind!r}")
        removers[kind](name)

    def removal_commands(self, kind: str, names: list[str]) -> list[str]:
        """How a person would remove these by hand, for a dry run to show."""
        if not names:
            return []
        if kind == "pod":
            return [f"podman pod rm --force {name}" for name in names]
        if kind == "volume":
            return ["podman volume rm " + " ".join(names)]
        if kind == "network":
            return [f"podman network rm {name}  (and its firewall rules)" for name in names]
        if kind == "generation":  # BASE/COMMIT: a folder in the base volume
            return [f"podman run --rm --network none -v {base}:/base AGENT_IMAGE rm -rf /base/gen/{commit}"
                    for base, _, commit in (name.rpartition("/") for name in names)]
        return [f"podman rm --force {name}" for name in names]

    # -- measure storage --------------------------------------------------------------------------
    def volume_sizes(self, volumes: list[m.VolumeInfo] | None = None) -> dict[str, int]:
        return self.engine.volume_sizes(volumes)

    def disk_space(self, volumes: list[m.VolumeInfo]) -> dict[str, tuple[int, int]]:
        return self.engine.disk_space(volumes)

    def written(self, containers: list[m.ContainerInfo] | None = None) -> dict[str, int]:
        """Bytes each taskspace's containers wrote to their own root file systems (home, packages,
        logs: not /workspace, /tmp or the volumes). On this machine, given the containers, read
        from their layers; else podman's list with sizes (one call, in which it walks each layer)."""
        if self.engine.local and containers is not None:
            sizes = self.engine.written_here(containers)
            layers = [(c.labels, sizes[c.name]) for c in containers if c.name in sizes]
        else:
            layers = list(self.engine.written(L.ALL_OURS).values())
        found: dict[str, int] = {}
        for labels, size in layers:
            if (taskspace := L.taskspace_of(labels)) and labels.get(L.ROLE) in ("agent", "dev"):
                found[taskspace] = found.get(taskspace, 0) + size
        return found

    # -- probes, streams, export ------------------------------------------------------------------
    def ssh_answers(self, port: int) -> bool:
        return self.engine.ssh_answers(port)

    def port_forward_lost(self, member: str, port: int) -> str | None:
        return port_forward_lost(self.engine, member, port)

    def stats(self) -> list[m.ContainerStats]:
        return self.engine.stats()

    def events(self, since: float | None = None) -> EventFeed:
        return self.engine.events(since)

    def logs(self, member: str, tail: int = 200, timestamps: bool = False) -> list[str]:
        return self.engine.logs(member, tail=tail, timestamps=timestamps)

    def follow_logs(self, member: str, since: float | None = None, timestamps: bool = False) -> LineFeed:
        return self.engine.follow_logs(member, since=since, timestamps=timestamps)

    def generate_kube(self, taskspace: str) -> str:
        return self.engine.generate_kube(pod_name(taskspace))

    # -- the agent --------------------------------------------------------------------------------
    def read_agent(self, taskspace: str, cursor: SignalCursor | None, budget: int = 65536) -> AgentFiles:
        return self._agent.read(taskspace, cursor, budget)

    def send_to_agent(self, taskspace: str, text: str, enter: bool = True) -> None:
        self._agent.send(taskspace, text, enter)

    # -- what doctor checks -----------------------------------------------------------------------
    @property
    def uri(self) -> str:
        return str(getattr(self.engine, "uri", ""))

    @property
    def source(self) -> str:
        return str(getattr(self.engine, "source", ""))

    def run_throwaway(self, image: str, command: list[str], *, timeout: float = 60.0) -> m.ExecResult:
        return self.engine.run_throwaway(image, command, timeout=timeout)

    def probe_pod(self, image: str, port: int, *, timeout: float = 30.0) -> tuple[int, str | None]:
        return self.engine.probe_pod(image, port, timeout=timeout)
