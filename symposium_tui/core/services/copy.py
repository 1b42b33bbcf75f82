"""Files into and out of a taskspace's container (`cp`, the dashboard's `c`), through the engine,
running or stopped: what the two ends mean, then core.copying packs or unpacks."""

from __future__ import annotations

import posixpath
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from symposium_tui.core import labels as L
from symposium_tui.core.copying import Copied, Endpoint, pack, unpack
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventory
from symposium_tui.core.taskspace import CONTAINER_UID


@dataclass
class CopyResult:
    copied: Copied
    container: str
    to: str  # where it went ("ID:/workspace/x" or a local path)
    notes: list[str] = field(default_factory=list)


def check_ends(source: Endpoint, dest: Endpoint) -> None:
    if (source.taskspace is None) == (dest.taskspace is None):
        raise UsageError("cp copies between a taskspace and here: one of SOURCE and DEST is ID:PATH, the other "
                         "a path here (a local path with a colon: ./a:b)")
    if source.taskspace is None and not Path(source.path).exists():
        raise UsageError(f"{source.path}: no such file or folder here")


def copy(ctx: LifecycleContext, source: Endpoint, dest: Endpoint, role: str = "dev") -> CopyResult:
    """SOURCE to DEST, one of them in ROLE's container of a taskspace. A stopped taskspace's
    volumes are mounted by a probe container: it is held (locked) so it is not started meanwhile."""
    check_ends(source, dest)
    outward = source.taskspace is not None
    taskspace = str(source.taskspace if outward else dest.taskspace)
    found = inventory(ctx.backend, taskspace)
    container = next((c for c in found.containers if c.labels.get(L.ROLE) == role), None)
    if container is None:
        raise SymposiumError(f"no taskspace {taskspace} (or it has no {role} container)",
                             hint="symposium-tui ls lists them")
    with ExitStack() as stack:
        if not container.running:
            stack.enter_context(ctx.taskspace_lock(taskspace))
        files = stack.enter_context(ctx.backend.files_of(container.name, writable=not outward,
                                                         project_disk=found.volume("project")))
        result = _out(files, source, Path(dest.path), dest.folder) if outward else _in(files, Path(source.path), dest)
    result.container = container.name
    return result


def _out(files, source: Endpoint, local: Path, local_folder: bool) -> CopyResult:  # noqa: ANN001
    found = files.stat(source.path)
    if found is None:
        raise SymposiumError(f"{source}: no such file or folder in the taskspace (a link there to a path the "
                             "container lacks is refused the same way: its target is never looked for here)")
    notes = [f"{source} is a link in the container: what it points to there ({found.target}) is copied"] \
        if found.is_link else []
    if local.is_dir():
        directory, name = local, posixpath.basename(source.path) or found.name
    else:
        if local_folder:
            raise UsageError(f"{local}: no such folder here")
        directory, name = local.parent, local.name
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such folder here")
        if local.is_symlink():
            notes.append(f"{local} was a link here: replaced, not followed")
    if name in ("", ".", ".."):
        raise UsageError(f"{local}: name the file or folder to copy into")
    stream = files.read(source.path)
    try:
        copied = unpack(stream, directory, name, found.target or source.path)
    except OSError as exc:
        raise SymposiumError(f"could not write {directory / name}: {exc.strerror or exc}") from None
    return CopyResult(copied, "", str(directory / name), notes)


def _in(files, local: Path, dest: Endpoint) -> CopyResult:  # noqa: ANN001
    found = files.stat(dest.path)
    if found is not None and found.is_dir:
        directory, name = dest.path, local.resolve().name if local.name in ("", ".", "..") else local.name
    elif found is not None:
        if local.is_dir():
            raise UsageError(f"{dest} is a file: a folder cannot be copied onto it")
        directory, name = posixpath.dirname(dest.path), posixpath.basename(dest.path)
    elif dest.folder:
        raise SymposiumError(f"{dest}: no such folder in the taskspace")
    else:
        directory, name = posixpath.dirname(dest.path), posixpath.basename(dest.path)
        parent = files.stat(directory)
        if parent is None or not parent.is_dir:
            raise SymposiumError(f"{dest.taskspace}:{directory}: no such folder in the taskspace")
    body, copied = pack(local, name, CONTAINER_UID)
    with body:
        files.write(directory, body)
    return CopyResult(copied, "", f"{dest.taskspace}:{posixpath.join(directory, name)}")
