"""What the poller measures: each container's CPU and memory against its taskspace's limits (a
history for the sparklines), whether SSH answers on the published ports (probed in parallel),
and disk use (every volume now and then, the project disks every tick)."""

from __future__ import annotations

import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from symposium_tui.core import labels as L
from symposium_tui.core.backend import TaskspaceBackend
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import ContainerInfo, ContainerStats, PodInfo, VolumeInfo
from symposium_tui.core.services.inventory import TaskspaceGroup
from symposium_tui.core.services.storage import StorageUse, limits_from, measure, refresh_disks
from symposium_tui.core.stats import StatsHistory, StatsSample
from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT

SSH_PORTS = {"dev": DEV_SSH_PORT, "agent": AGENT_SSH_PORT}


@dataclass(frozen=True)
class Probed:
    answered: bool
    marker: tuple  # the container's id, start time and port when asked: a change asks again
    due: float  # when to ask again
Samples = dict[str, dict[str, tuple[StatsSample | None, ContainerStats | None]]]


def limits_of(group: TaskspaceGroup, entry: dict) -> tuple[int, int]:
    """(CPU millicores, memory) in effect: the registry's, else the creation labels'."""
    labels = group.pod.labels if group.pod else {}
    cpu = entry.get("cpu_millis") or labels.get(L.CPU) or 0
    memory = entry.get("memory_limit") or labels.get(L.MEMORY) or 0
    return int(cpu), int(memory)


class Measurements:
    def __init__(self, backend: TaskspaceBackend, history_length: int, storage_every: float,
                 probe_every: float = 15.0) -> None:
        self.backend = backend
        self.probe_every = probe_every
        self._probed: dict[tuple[str, str], Probed] = {}
        self._asking: dict[tuple[str, str], tuple[Future, tuple]] = {}  # probes under way
        self.history = StatsHistory(history_length)
        self.storage_every = storage_every
        self.storage: dict[str, StorageUse] = {}
        self._volumes: list[VolumeInfo] = []  # our volumes as of the last full storage measurement
        self._measured_for: set[str] = set()  # the taskspaces there were then
        self._storage_at: float | None = None
        self._probe_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ssh-probe")

    def sample(self, groups: dict[str, TaskspaceGroup], registry: dict, stats: list[ContainerStats],
               now: float) -> Samples:
        by_id = {s.id: s for s in stats}
        samples: Samples = {}
        for taskspace, group in groups.items():
            cpu, memory = limits_of(group, registry.get(taskspace, {}))
            samples[taskspace] = {}
            for role, ctr in group.members.items():
                raw = by_id.get(ctr.id)
                previous = self.history.previous_raw(ctr.name)
                sample = self.history.add(ctr.name, raw, cpu, memory, now) if raw else None
                samples[taskspace][role] = (sample, previous)
        return samples

    def forget_except(self, groups: dict[str, TaskspaceGroup]) -> None:
        self.history.forget_except({c.name for g in groups.values() for c in g.members.values()})

    def probe(self, groups: dict[str, TaskspaceGroup], now: float, quick: bool = False) -> dict[tuple[str, str], bool]:
        """Whether SSH greets on each running container's published port. A greeting costs the
        container an sshd started for it (some 100 ms, more under load), so one that answered is
        asked again only every probe_every seconds (each at its own phase, so 200 taskspaces are
        not all asked in one tick), at once when its container (re)started or its port moved, and
        every tick while it does not answer. A port never asked, or silent the last time, is waited
        for; a re-check of one that answered counts from the tick its answer arrives in (so a tick
        never waits for 60 greetings at once). A quick tick asks none: a port never asked counts
        as answering."""
        wanted = {(t, role): (g.ports.get(SSH_PORTS[role]), (c.id, c.started, g.ports.get(SSH_PORTS[role])))
                  for t, g in groups.items() for role, c in g.members.items() if c.running}
        self._probed = {key: seen for key, seen in self._probed.items() if key in wanted}
        if not quick:
            for key, (port, marker) in wanted.items():
                seen = self._probed.get(key)
                if port and key not in self._asking and (
                        seen is None or not seen.answered or seen.marker != marker or now >= seen.due):
                    self._asking[key] = (self._probe_pool.submit(self.backend.ssh_answers, port), marker)
            for key, (future, _) in list(self._asking.items()):
                if key in wanted and ((seen := self._probed.get(key)) is None or not seen.answered):
                    future.exception()  # never asked, or silent the last time: waited for
        for key, (future, marker) in list(self._asking.items()):
            if future.done():
                del self._asking[key]
                if key in wanted and future.exception() is None:
                    first = key not in self._probed
                    phase = 0.5 + (zlib.crc32(repr(key).encode()) % 1000) / 1000 if first else 1.0
                    self._probed[key] = Probed(future.result(), marker, now + self.probe_every * phase)
        return {key: bool(port) and (seen.answered if (seen := self._probed.get(key)) else quick)
                for key, (port, _) in wanted.items()}

    def measure_storage(self, registry: dict, pods: list[PodInfo], now: float,
                        containers: list[ContainerInfo] | None = None) -> None:
        """Every volume every storage_every seconds; the project disks every tick (a statfs each on a
        local engine), so a disk that fills up is seen at once."""
        if not self.storage_every:
            return
        present = {t for p in pods if (t := L.taskspace_of(p.labels))}
        new = present - self._measured_for  # made since the last measurement: measured now, not in a minute
        if self._storage_at is not None and now - self._storage_at < self.storage_every and not new:
            self.storage = refresh_disks(self.backend, self.storage, self._volumes)
            return
        try:
            self._volumes = list(self.backend.observe(L.ALL_OURS, kinds=("volumes",)).volumes)
            self.storage = measure(self.backend, limits_from(registry, pods), self._volumes, containers)
        except SymposiumError:
            return  # disk use is a nicety: keep the last figures
        self._storage_at, self._measured_for = now, present
