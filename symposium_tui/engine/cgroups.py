"""A pod's cgroup limits, written on this host when the engine has no pod update (podman 4.3).

The engine's pod update API is preferred; this is the fallback for a local rootful engine, where the
pod's cgroup (`/libpod_parent/<pod id>` with cgroupfs) is on this machine. Writing it takes effect
at once and survives a pod stop/start.
"""

from __future__ import annotations

from pathlib import Path

from symposium_tui.core.errors import EngineError

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD = 100000


def unified(root: Path = ROOT) -> bool:
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
