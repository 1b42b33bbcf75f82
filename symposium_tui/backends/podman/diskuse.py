"""Disk use of the product's volumes on podman: read from the file systems when the engine is on
this machine (podman's /system/df took 7 s with 150 containers and sees sparse images at full
length), else podman's report, corrected where it can be."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.models import ContainerInfo, VolumeInfo
from symposium_tui.backends.podman.normalize import upper_dir_of, volume_sizes_from


class DiskUseMixin:
    """A part of adapter.Engine."""

    local: bool
    _get_json: Callable[..., Any]  # adapter.Engine's

    def disk_space(self, volumes: list[VolumeInfo]) -> dict[str, tuple[int, int]]:
        """(used, free) bytes of the loop volumes (project disks) that are mounted on this machine,
        read from the file system: no engine call, cheap enough for every tick."""
        if not self.local:
            return {}
        space = {}
        for volume in volumes:
            if not volume.is_loop:
                continue
            try:
                if os.path.ismount(volume.mountpoint):
                    st = os.statvfs(volume.mountpoint)
                    space[volume.name] = ((st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize)
            except OSError:
                continue
        return space

    def written_here(self, containers: list[ContainerInfo]) -> dict[str, int]:
        """Bytes in each container's writable layer (by name), read from its upper directory on
        this machine, which podman is asked once per container and which is kept in the cache dir
        (a container's layer stays where it is for its life): no engine call in a steady state,
        in the dashboard's ticks and in each new `ls` process alike."""
        uppers = self._upper_dirs()
        found = {}
        asked = False
        for container in containers:
            if container.id not in uppers:
                try:
                    data = self._get_json(f"inspect container {container.name}", f"/containers/{container.id}/json")
                except SymposiumError:
                    continue  # gone meanwhile
                uppers[container.id] = upper_dir_of(data)
                asked = True
            upper = uppers[container.id]
            if upper:
                try:
                    found[container.name] = tree_size(upper)
                except OSError:
                    continue
        if asked:
            self._keep_upper_dirs({c.id for c in containers})
        return found

    def _upper_dirs_file(self) -> Path:
        from symposium_tui.core.paths import app_paths

        digest = hashlib.sha256(str(getattr(self, "uri", "")).encode()).hexdigest()[:16]
        return app_paths().cache_dir / "upper-dirs" / f"{digest}.json"

    def _upper_dirs(self) -> dict[str, str]:
        if "_upper_dirs_kept" not in self.__dict__:
            kept: dict[str, str] = {}
            try:
                data = json.loads(self._upper_dirs_file().read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            if isinstance(data, dict):  # our own file, but read as carefully as any
                kept = {k: v for k, v in data.items() if isinstance(k, str) and len(k) == 64 and
                        isinstance(v, str) and (v == "" or v.startswith("/"))}
            self.__dict__["_upper_dirs_kept"] = kept
        return self.__dict__["_upper_dirs_kept"]

    def _keep_upper_dirs(self, live: set[str]) -> None:
        """Written down for the next process; past 4,096 entries, only the containers asked about
        now are kept (a container's id is never reused, so an old entry is only wasted space)."""
        uppers = self._upper_dirs()
        if len(uppers) > 4096:
            for gone in set(uppers) - live:
                del uppers[gone]
        try:
            atomic_write(self._upper_dirs_file(), json.dumps(uppers, sort_keys=True))
        except (OSError, SymposiumError):
            pass  # only a cache: the next process asks podman again

    def volume_sizes(self, volumes: list[VolumeInfo] | None = None) -> dict[str, int]:
        """Disk use of volumes.

        Given the volumes, and when the engine is on this machine, they are read from the file
        system (no engine call): blocks in use under each (as du counts them), the mounted file
        system's use for a loop volume (else the blocks its image file holds), nothing for a bind
        volume or an overlay view (views of other volumes). Otherwise podman's disk-usage report
        (one call, but podman also sizes every image and container for it: seconds with many
        containers), corrected where it can be: podman sees a loop-mounted volume as empty while
        it is not mounted, and counts the sparse file behind it at its full length."""
        if self.local and volumes is not None:
            try:
                return {v.name: _local_size(v) for v in volumes}
            except OSError:
                pass  # not readable by this process: ask podman
        data = self._get_json("measure volumes", "/system/df")
        sizes = volume_sizes_from(data)
        if not self.local or not volumes:
            return sizes
        images = {}
        for volume in volumes:
            if volume.is_bind:
                sizes[volume.name] = 0
            elif volume.is_loop and (used := _filesystem_use(volume)) is not None:
                sizes[volume.name] = used
                images[os.path.dirname(volume.options.get("device", ""))] = volume.options["device"]
        for volume in volumes:
            if volume.mountpoint in images and (held := _allocated(images[volume.mountpoint])) is not None:
                sizes[volume.name] = held
        return sizes


def _allocated(path: str) -> int | None:
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return None


def _filesystem_use(volume: VolumeInfo) -> int | None:
    """Bytes in use on a loop volume's file system: from statfs while it is mounted, else the
    blocks its image file holds (None when this process cannot read either)."""
    try:
        if os.path.ismount(volume.mountpoint):
            st = os.statvfs(volume.mountpoint)
            return (st.f_blocks - st.f_bfree) * st.f_frsize
    except OSError:
        return None
    return _allocated(volume.options.get("device", ""))


def _local_size(volume: VolumeInfo) -> int:
    if volume.is_bind or volume.options.get("type") == "overlay":
        return 0
    if volume.is_loop:
        used = _filesystem_use(volume)
        return used or 0
    return tree_size(volume.mountpoint)


MAX_ENTRIES = 2_000_000  # per volume and measurement: what is beyond is not counted


def tree_size(top: str, budget: int = MAX_ENTRIES) -> int:
    """Blocks in use under TOP, as du counts them, never following a link. Without recursion (a
    tree thousands of levels deep, which an agent can make in its state, is just a long walk) and
    with a budget of entries, so one taskspace's content cannot stall the measurement of all.
    OSError for TOP itself (unreadable: ask the engine); entries that vanish meanwhile are skipped."""
    total, seen = 0, 0
    pending = [top]
    first = True
    while pending and seen < budget:
        directory = pending.pop()
        try:
            entries = os.scandir(directory)
        except FileNotFoundError:
            if first:
                raise
            continue
        except OSError:
            if first:
                raise
            continue  # a folder inside that cannot be read: counted as empty
        first = False
        with entries:
            for entry in entries:
                seen += 1
                try:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                except OSError:
                    continue  # removed while walking
                if seen >= budget:
                    break
    return total
