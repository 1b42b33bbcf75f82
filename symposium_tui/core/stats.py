"""Stats history: bounded ring buffers per container, CPU as a share of the taskspace's quota."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from symposium_tui.core.models import ContainerStats


@dataclass(frozen=True)
class StatsSample:
    time: float  # seconds since the epoch
    cpu_percent: float  # of the taskspace's CPU quota (100 = the whole quota)
    cpu_cores: float
    mem_bytes: int
    mem_limit: int  # the taskspace's memory limit (0 when unknown)
    pids: int
    net_bytes: int


def cpu_cores(previous: ContainerStats | None, current: ContainerStats) -> float | None:
    """Cores used between two samples; None for the first sample (podman's own CPU is an average)."""
    if previous is None or previous.id != current.id:
        return None
    wall = current.system_nano - previous.system_nano
    used = current.cpu_nano - previous.cpu_nano
    if wall <= 0 or used < 0:
        return None
    return used / wall


class StatsHistory:
    """The last `size` samples of each container, and the last raw reading to diff against.
    The poller's thread adds; screens read copies (under a lock: a deque that grows while it is
    being copied raises)."""

    def __init__(self, size: int = 300) -> None:
        self.size = max(size, 2)
        self._samples: dict[str, deque[StatsSample]] = {}
        self._raw: dict[str, ContainerStats] = {}
        self._lock = threading.Lock()

    def add(self, name: str, raw: ContainerStats, cpu_quota_millis: int, mem_limit: int,
            now: float) -> StatsSample | None:
        previous = self._raw.get(name)
        self._raw[name] = raw
        cores = cpu_cores(previous, raw)
        if cores is None:
            return None
        quota = cpu_quota_millis / 1000 if cpu_quota_millis else 0
        percent = cores / quota * 100 if quota else cores * 100
        sample = StatsSample(now, percent, cores, raw.mem_usage, mem_limit, raw.pids,
                             raw.net_in + raw.net_out)
        with self._lock:
            self._samples.setdefault(name, deque(maxlen=self.size)).append(sample)
        return sample

    def samples(self, name: str) -> list[StatsSample]:
        with self._lock:
            return list(self._samples.get(name, ()))

    def previous_raw(self, name: str) -> ContainerStats | None:
        return self._raw.get(name)

    def forget_except(self, names: set[str]) -> None:
        with self._lock:
            for name in set(self._samples) - names:
                del self._samples[name]
        for name in set(self._raw) - names:
            del self._raw[name]
