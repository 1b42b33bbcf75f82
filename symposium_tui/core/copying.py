"""`cp`'s side on this machine: what its arguments name, the tar of a local path sent in, and a tar
that came out of a container unpacked here.

What comes out of a container is untrusted (the agent made those files): its names, links and
modes. It is unpacked with tarfile's `data` filter (no absolute names, nothing outside the
destination, no device files, no set-uid bits) and more: a link is kept only when it points inside
what was copied (else it is skipped and said), nothing is written through a link that is already
on this machine, and a link already where a file goes is replaced, never followed.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from symposium_tui.core.errors import UsageError
from symposium_tui.core.ids import validate_id

WORKDIR = "/workspace"  # where a relative path in a taskspace starts
SPOOL_BYTES = 16 << 20  # a tar sent in is kept in memory up to this, then in a temporary file


@dataclass(frozen=True)
class Endpoint:
    """One side of a copy: a path here (taskspace None), or a path in a taskspace's container."""

    taskspace: str | None
    path: str
    folder: bool = False  # written with a slash at the end: a folder, which must exist

    def __str__(self) -> str:
        return f"{self.taskspace}:{self.path}" if self.taskspace else self.path


def parse_endpoint(text: str) -> Endpoint:
    """`ID:PATH` is in a taskspace (PATH relative to /workspace unless absolute); anything else is
    a path here. A local path with a colon before any slash is written `./a:b`."""
    head, colon, tail = text.partition(":")
    if colon and head and "/" not in head:
        return Endpoint(validate_id(head), container_path(tail), tail.endswith("/"))
    if not text:
        raise UsageError("an empty path")
    return Endpoint(None, text, text.endswith("/"))


def container_path(text: str) -> str:
    if any(not c.isprintable() for c in text):
        raise UsageError(f"{text!r}: a path in a taskspace has no control characters")
    return posixpath.normpath(posixpath.join(WORKDIR, text or "."))


@dataclass
class Copied:
    """What a copy did: counted, and what it left out with why."""

    files: int = 0
    folders: int = 0
    links: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in
                 ((self.files, "file"), (self.folders, "folder"), (self.links, "link")) if n]
        return ", ".join(parts) or "nothing"

    def summary(self) -> str:
        """`3 files, 1 folder (1.2Mi)`."""
        from symposium_tui.core.display import size

        return f"{self.describe()} ({size(self.bytes)})"

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "folders": self.folders, "links": self.links, "bytes": self.bytes,
                "skipped": list(self.skipped)}


def pack(source: Path, name: str, uid: int) -> tuple[BinaryIO, Copied]:
    """SOURCE (a file or a folder; a link given by name is followed, links inside stay links) as a
    tar whose top entry is NAME, owned by UID, without set-uid bits or device files."""
    copied = Copied()
    real = source.resolve(strict=True)

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir() or info.issym()):
            copied.skipped.append(f"{info.name}: not a file, folder or link")
            return None
        info.uid = info.gid = uid
        info.uname = info.gname = ""
        info.mode &= 0o777
        if info.isfile():
            copied.files += 1
            copied.bytes += info.size
        elif info.isdir():
            copied.folders += 1
        else:
            copied.links += 1
        return info

    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    try:
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(str(real), arcname=name, filter=keep)
    except OSError as exc:
        spool.close()
        raise UsageError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    spool.seek(0)
    return spool, copied  # type: ignore[return-value]


def unpack(stream: BinaryIO, directory: Path, name: str, source: str = "") -> Copied:
    """A tar from a container, unpacked in DIRECTORY with its top entry named NAME. SOURCE: the
    container's path of the top entry; a link inside to an absolute path under it is kept, made
    relative (it points inside what was copied)."""
    copied = Copied()
    top: list[str] = []

    def admit(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        parts = PurePosixPath(member.name).parts
        if not parts or member.name.startswith("/") or ".." in parts:
            copied.skipped.append(f"{member.name!r}: a name outside what was copied")
            return None
        if not top:
            top.append(parts[0])
        if parts[0] != top[0]:
            copied.skipped.append(f"{member.name!r}: a name outside what was copied")
            return None
        relative = PurePosixPath(name, *parts[1:])
        shown = str(relative)
        changes: dict[str, object] = {"name": shown}
        if member.issym():
            inside_path = posixpath.join(source, *parts[1:]) if source else ""
            if source and member.linkname.startswith("/") and _inside(posixpath.normpath(member.linkname), source):
                changes["linkname"] = posixpath.relpath(posixpath.normpath(member.linkname),
                                                        posixpath.dirname(inside_path))
            linkname = str(changes.get("linkname", member.linkname))
            target = posixpath.normpath(posixpath.join(posixpath.dirname(shown), linkname))
            if linkname.startswith("/") or not _inside(target, name):
                copied.skipped.append(f"{shown}: a link to {member.linkname}, outside what was copied")
                return None
        elif member.islnk():
            link_parts = PurePosixPath(member.linkname).parts
            if not link_parts or link_parts[0] != top[0] or ".." in link_parts:
                copied.skipped.append(f"{shown}: a hard link to {member.linkname}, outside what was copied")
                return None
            changes["linkname"] = str(PurePosixPath(name, *link_parts[1:]))
        if _through_link(directory, relative):
            copied.skipped.append(f"{shown}: a link on this machine is in its way")
            return None
        if not member.isdir():
            _clear_link(directory / relative)  # before the filter, which would follow it
        try:
            safe = tarfile.data_filter(member.replace(**changes, deep=False), dest)
        except tarfile.FilterError as exc:
            copied.skipped.append(f"{shown}: {exc}")
            return None
        if safe.isdir():
            copied.folders += 1
        elif safe.issym() or safe.islnk():
            copied.links += 1
        else:
            copied.files += 1
            copied.bytes += safe.size
        return safe

    with tarfile.open(fileobj=stream, mode="r|") as tar:
        tar.extractall(directory, filter=admit)
    return copied


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _through_link(directory: Path, relative: PurePosixPath) -> bool:
    """Would writing RELATIVE in DIRECTORY go through a link already there (one of its folders)?"""
    here = directory
    for part in relative.parts[:-1]:
        here = here / part
        try:
            if stat.S_ISLNK(os.lstat(here).st_mode):
                return True
        except FileNotFoundError:
            return False
    return False


def _clear_link(path: Path) -> None:
    """A link where a file goes is replaced, never written through."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            path.unlink()
    except FileNotFoundError:
        pass
