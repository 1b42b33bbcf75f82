"""Files the product owns: written atomically, guarded by advisory locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from symposium_tui.core.errors import SymposiumError


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a whole file or nothing: a temp file in the same dir, fsynced, then renamed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SymposiumError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SymposiumError(f"cannot write {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def locked(lock_path: Path, *, blocking: bool = True, busy_message: str = "",
           shared: bool = False) -> Iterator[None]:
    """Hold an exclusive flock on lock_path (shared: one of several holders, and is_locked says
    so); with blocking=False, fail at once if it is held."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise SymposiumError(f"cannot lock {lock_path}: {exc.strerror or exc}") from exc
    try:
        flags = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError as exc:
            raise SymposiumError(busy_message or f"{lock_path} is locked by another process") from exc
        yield
    finally:
        handle.close()


def is_locked(lock_path: Path) -> bool:
    """True while another process holds the lock (a create or remove in progress)."""
    if not lock_path.exists():
        return False
    try:
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def private_dir(path: Path) -> bool:
    """PATH is (made if missing) a directory of this user's alone: not a link, owned by the
    effective user, no access for group or others. A fixed name in a shared place (/tmp) may
    have been made by someone else first, to swap what the product puts there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        st = os.lstat(path)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077
