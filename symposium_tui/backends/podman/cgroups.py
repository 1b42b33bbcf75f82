"""A pod's cgroup limits, written on this host when the engine has no pod update (podman 4.3).

The engine's pod update API is preferred; this is the fallback for a local rootful engine, where the
pod's cgroup (`/libpod_parent/<pod id>` with cgroupfs) is on this machine. Writing it takes effect
at once and survives a pod stop/start.
"""

from __future__ import annotations

import functools
from pathlib import Path

from symposium_tui.core.errors import EngineError

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD = 100000


@functools.cache
def unified(root: Path = ROOT) -> bool:
    """cgroup v2 (one tree) or v1: a host's does not change while it runs (asked per container per tick)."""
    return (root / "cgroup.controllers").exists()


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise EngineError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise EngineError(f"cannot read {path}: {exc.strerror or exc}") from exc


def pod_cgroup_exists(cgroup_path: str, root: Path = ROOT) -> bool:
    relative = cgroup_path.lstrip("/")
    if unified(root):
        return (root / relative).is_dir()
    return (root / "memory" / relative).is_dir() and (root / "cpu" / relative).is_dir()


def write_limits(cgroup_path: str, memory: int, cpu_millis: int, root: Path = ROOT) -> None:
    relative = cgroup_path.lstrip("/")
    quota = cpu_millis * CPU_PERIOD // 1000
    if unified(root):
        _write(root / relative / "memory.max", str(memory))
        _write(root / relative / "cpu.max", f"{quota} {CPU_PERIOD}")
        return
    memory_dir, cpu_dir = root / "memory" / relative, root / "cpu" / relative
    swap = memory_dir / "memory.memsw.limit_in_bytes"
    current = int(_read(memory_dir / "memory.limit_in_bytes"))
    # memory+swap may never be below memory: widen it first when raising, narrow it last when lowering.
    if swap.exists() and memory > current:
        _write(swap, str(memory))
    _write(memory_dir / "memory.limit_in_bytes", str(memory))
    if swap.exists() and memory <= current:
        _write(swap, str(memory))
    _write(cpu_dir / "cpu.cfs_period_us", str(CPU_PERIOD))
    _write(cpu_dir / "cpu.cfs_quota_us", str(quota))


def read_limits(cgroup_path: str, root: Path = ROOT) -> tuple[int | None, int | None]:
    """(memory bytes, cpu millicores) as the kernel holds them; None means unlimited."""
    relative = cgroup_path.lstrip("/")
    if unified(root):
        memory = _read(root / relative / "memory.max")
        quota, period = _read(root / relative / "cpu.max").split()
        return (None if memory == "max" else int(memory),
                None if quota == "max" else int(quota) * 1000 // int(period))
    memory_value = int(_read(root / "memory" / relative / "memory.limit_in_bytes"))
    quota_value = int(_read(root / "cpu" / relative / "cpu.cfs_quota_us"))
    period_value = int(_read(root / "cpu" / relative / "cpu.cfs_period_us"))
    return (None if memory_value >= 2**62 else memory_value,
            None if quota_value < 0 else quota_value * 1000 // period_value)


_STAT_PATHS: dict[str, Path | None] = {}  # container id -> its memory.stat (found once)
MAX_STAT = 16384


def _memory_stat(container_id: str, root: Path = ROOT) -> Path | None:
    if container_id not in _STAT_PATHS:
        if not container_id or not container_id.isalnum():
            return None
        patterns = ([f"libpod_parent/*/libpod-{container_id}/memory.stat", f"*/libpod-{container_id}.scope/memory.stat",
                     f"libpod_parent/libpod-{container_id}/memory.stat"] if unified(root) else
                    [f"memory/libpod_parent/*/libpod-{container_id}/memory.stat",
                     f"memory/libpod_parent/libpod-{container_id}/memory.stat",
                     f"memory/machine.slice/*libpod-{container_id}*/memory.stat"])
        found = next((path for pattern in patterns for path in root.glob(pattern)), None)
        if len(_STAT_PATHS) > 4096:
            _STAT_PATHS.clear()
        _STAT_PATHS[container_id] = found
    return _STAT_PATHS[container_id]


def reclaimable_cache(container_id: str, root: Path = ROOT) -> int:
    """Bytes of inactive file cache in a running container's memory cgroup (0 when unknown)."""
    path = _memory_stat(container_id, root)
    if path is None:
        return 0
    try:
        with open(path, "rb") as stat:
            text = stat.read(MAX_STAT).decode("ascii", "replace")
    except OSError:
        _STAT_PATHS.pop(container_id, None)  # gone (restarted with a new cgroup): look again next time
        return 0
    key = "inactive_file" if unified(root) else "total_inactive_file"
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0
