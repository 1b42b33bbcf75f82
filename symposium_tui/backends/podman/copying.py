"""Files in and out of a taskspace's container through the engine's archive endpoint, running or
stopped (`cp`).

A running container is read and written as it is: the engine resolves every path, links
included, inside the container's own root. A stopped one has its root file system but not its
volumes (the workspace is an overlay the engine mounts only at start): a path on one of its
volumes goes through a probe container that mounts the same volumes at the same places (and the
holder of a loop project disk), made for the copy and removed after it."""

from __future__ import annotations

import posixpath
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import BinaryIO

from symposium_tui.backends.podman.specs import PROJECT_MOUNT, ContainerSpec, PodmanEngine, VolumeMount
from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import PathStat, VolumeInfo

HOLD = ("-c", "trap 'exit 0' TERM; sleep 3600 & wait")  # the probe's only process, until removed


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


class MemberFiles:
    """One container's files for a copy: stat, read (a tar stream) and write (a tar stream)."""

    def __init__(self, engine: PodmanEngine, member: str, writable: bool,
                 stack: ExitStack, mount_probe) -> None:  # noqa: ANN001 - () -> str, the probe's name
        self.engine = engine
        self.member = member
        self.writable = writable
        self._stack = stack
        self._mount_probe = mount_probe  # None: running (the engine sees all of it)
        self._volumes: list[tuple[str, str]] | None = None
        self._tmpfs: list[str] = []
        self._probe: str | None = None

    def _where(self, path: str) -> str:
        """The container that has PATH: the member, or (stopped, on a volume) the probe."""
        if self._mount_probe is None:
            return self.member
        if self._volumes is None:
            volumes, self._tmpfs = self.engine.mounts(self.member)
            self._volumes = [(n, d) for n, d in volumes if d != PROJECT_MOUNT]
        normal = posixpath.normpath(path)
        if any(_under(normal, t) for t in self._tmpfs):
            raise SymposiumError(f"{path} is on a tmpfs in {self.member}, empty while it is stopped and emptied "
                                 "at each start: start the taskspace to copy there")
        if not any(_under(normal, d) for _, d in self._volumes):
            return self.member
        if self._probe is None:
            self._probe = self._mount_probe(self._volumes)
        return self._probe

    def stat(self, path: str) -> PathStat | None:
        where = self._where(path)
        found = self.engine.path_stat(where, path)
        if found is not None and found.is_link and where != self.member and \
                not any(_under(posixpath.normpath(found.target), d) for _, d in self._volumes or ()):
            # followed in the probe, whose root is not the taskspace's: its own file would come out
            raise SymposiumError(f"{path} is a link to {found.target}, outside the taskspace's volumes: "
                                 "start the taskspace to copy what it points to, or copy that path")
        return found

    def read(self, path: str) -> BinaryIO:
        stream = self.engine.archive(self._where(path), path)
        if stream is None:
            raise SymposiumError(f"{path}: no such file or folder in {self.member}")
        self._stack.callback(stream.close)
        return stream

    def write(self, directory: str, body: BinaryIO) -> None:
        if not self.writable:
            raise SymposiumError("opened for reading only")
        self.engine.put_archive(self._where(directory), directory, body)


class PodmanCopying:
    """The copying part of PodmanBackend (its engine is the adapter)."""

    engine: PodmanEngine

    @contextmanager
    def files_of(self, member: str, writable: bool, project_disk: VolumeInfo | None = None) -> Iterator[MemberFiles]:
        """MEMBER's files for a copy; a stopped one's volumes through a probe (the caller holds
        the taskspace's lock, so it is not started meanwhile: two mounts of one overlay)."""
        found = self.engine.container(member)
        if found is None:
            raise SymposiumError(f"no container {member}")
        with ExitStack() as stack:
            mount = None
            if not found.running:
                def mount(volumes: list[tuple[str, str]]) -> str:
                    return self._start_probe(stack, found.image, volumes, writable, project_disk)
            yield MemberFiles(self.engine, member, writable, stack, mount)

    def _start_probe(self, stack: ExitStack, image: str, volumes: list[tuple[str, str]], writable: bool,
                     project_disk: VolumeInfo | None) -> str:
        if project_disk is not None and project_disk.is_loop:
            stack.enter_context(self._disks_mounted({"copy": project_disk}, image))  # type: ignore[attr-defined]
        name = f"symposium-copy-{secrets.token_hex(4)}"
        self.engine.create_container(ContainerSpec(
            name, image, L.ours("probe"), entrypoint=("/bin/sh",), command=HOLD, network="none",
            volumes=tuple(VolumeMount(v, d, read_only=not writable) for v, d in volumes)))
        stack.callback(self.engine.remove_container, name)
        self.engine.start_container(name)
        return name
