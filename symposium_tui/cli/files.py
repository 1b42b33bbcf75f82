"""cp: files into and out of a taskspace's container, through the engine (running or stopped)."""

from __future__ import annotations

import argparse
import posixpath
from contextlib import ExitStack
from pathlib import Path

from symposium_tui.cli.common import Services
from symposium_tui.cli.output import emit_json, note, say
from symposium_tui.core.copying import Copied, Endpoint, pack, parse_endpoint, unpack
from symposium_tui.core.display import printable
from symposium_tui.core.errors import SymposiumError, UsageError


def cmd_cp(args: argparse.Namespace) -> int:
    source, dest = parse_endpoint(args.source), parse_endpoint(args.dest)
    if (source.taskspace is None) == (dest.taskspace is None):
        raise UsageError("cp copies between a taskspace and here: one of SOURCE and DEST is ID:PATH, the other "
                         "a path here (a local path with a colon: ./a:b)")
    outward = source.taskspace is not None
    if not outward:
        _check_local_source(Path(source.path))
    inside = source if outward else dest
    role = "agent" if args.agent else "dev"
    with Services(args) as services:
        member, stopped, disk = _member(services, str(inside.taskspace), role)
        with ExitStack() as stack:
            if stopped:  # its volumes are mounted by a probe: the taskspace must not start meanwhile
                stack.enter_context(services.ctx.taskspace_lock(str(inside.taskspace)))
            files = stack.enter_context(services.ctx.backend.files_of(member, writable=not outward,
                                                                      project_disk=disk))
            if outward:
                copied, where, said = _out(files, source, Path(dest.path), dest.folder)
            else:
                copied, where, said = _in(files, Path(source.path), dest)
    if args.json:
        emit_json({"source": str(source), "dest": str(dest), "container": member, "to": where,
                   "notes": said} | copied.as_dict())
        return 0
    for line in said:
        note(line)
    for skipped in copied.skipped:
        note(f"not copied: {printable(skipped)}")
    say(f"copied {copied.describe()} ({copied.bytes} bytes) from {printable(str(source))} to {printable(where)}")
    return 0


def _check_local_source(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder here")


def _member(services: Services, taskspace: str, role: str) -> tuple[str, bool, object]:
    """The taskspace's ROLE container, whether it is stopped, and its project disk."""
    from symposium_tui.core import labels as L

    found = services.lifecycle.inventory(taskspace)
    container = next((c for c in found.containers if c.labels.get(L.ROLE) == role), None)
    if container is None:
        raise SymposiumError(f"no taskspace {taskspace} (or it has no {role} container)",
                             hint="symposium-tui ls lists them")
    return container.name, not container.running, found.volume("project")


def _out(files, source: Endpoint, local: Path, local_folder: bool) -> tuple[Copied, str, list[str]]:  # noqa: ANN001
    found = files.stat(source.path)
    if found is None:
        raise SymposiumError(f"{source}: no such file or folder in the taskspace")
    said = [f"{source} is a link in the container: what it points to there ({found.target}) is copied"] \
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
            said.append(f"{local} was a link here: replaced, not followed")
    if name in ("", ".", ".."):
        raise UsageError(f"{local}: name the file or folder to copy into")
    stream = files.read(source.path)
    try:
        copied = unpack(stream, directory, name)
    except OSError as exc:
        raise SymposiumError(f"could not write {directory / name}: {exc.strerror or exc}") from None
    return copied, str(directory / name), said


def _in(files, local: Path, dest: Endpoint) -> tuple[Copied, str, list[str]]:  # noqa: ANN001
    from symposium_tui.core.taskspace import CONTAINER_UID

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
    return copied, f"{dest.taskspace}:{posixpath.join(directory, name)}", []
