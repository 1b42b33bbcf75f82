"""The journal of an operation that, killed half-way, would leave a taskspace half-made.

state/creating/ID.json, one per taskspace, written before the operation touches the engine and
removed when it is done: its kind, its id (labels.CREATE on every object it makes), its process
and start. Two kinds:

- create: a taskspace being made; killed, its objects are removed again (recovery.Recovery).
- security: a taskspace's pod being made again at another network level; the entry adds the old
  and new level, the level whose pod is being made (`making`, None while the old pod is taken
  away), whether it was running, and what its pod is made from (`launch`); killed, its pod is made
  again (security.SecurityChange.resume). `gave_up` says why that failed too: the taskspace then
  stays registered without a pod until `security ID LEVEL` or `rm ID`.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.ids import validate_id
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext

KINDS = ("create", "security")


class Journal:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.dir = ctx.paths.state_dir / "creating"

    def path(self, taskspace: str) -> Path:
        return self.dir / f"{taskspace}.json"

    def begin(self, taskspace: str, kind: str = "create", **fields: Any) -> str:
        """Returns the operation's id (the value of labels.CREATE on what it makes)."""
        operation_id = secrets.token_hex(8)
        atomic_write(self.path(taskspace), json.dumps(
            {"kind": kind, "taskspace": taskspace, "create_id": operation_id, "pid": os.getpid(),
             "started": time.time()} | fields))
        return operation_id

    def update(self, taskspace: str, **fields: Any) -> None:
        entry = self.entry(taskspace)
        if entry is not None:
            atomic_write(self.path(taskspace), json.dumps(entry | fields))

    def end(self, taskspace: str) -> None:
        self.path(taskspace).unlink(missing_ok=True)

    def entry(self, taskspace: str) -> dict | None:
        path = self.path(taskspace)
        return _read(path) if path.exists() else None

    def pending(self) -> list[dict]:
        try:
            files = sorted(self.dir.glob("*.json"))
        except OSError:
            return []
        return [entry for path in files if (entry := _read(path)) is not None]


def _read(path: Path) -> dict | None:
    """The entry, or None; a file that is not one of ours, or torn, is removed (nothing can be
    matched to it)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        validate_id(str(entry["taskspace"]))
        if path.stem != entry["taskspace"] or not str(entry["create_id"]).isalnum():
            raise ValueError
        entry.setdefault("kind", "create")  # journals written before there were kinds
        if entry["kind"] not in KINDS:
            raise ValueError
        if entry["kind"] == "security" and not (
                entry.get("old") in LEVELS and entry.get("new") in LEVELS
                and entry.get("making") in (None, *LEVELS) and isinstance(entry.get("launch"), dict)):
            raise ValueError
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, SymposiumError):
        path.unlink(missing_ok=True)
        return None
    return entry


def why_held(entry: dict, host: str = "local") -> str:
    """Why a journaled taskspace without a pod is not gone, and what ends that, in words."""
    taskspace = entry["taskspace"]
    if entry["kind"] == "create":
        return "its create was interrupted and is not finished off yet (the next command tries again)"
    on = "" if host == "local" else f" --connection {host}"
    what = f"its security change {entry['old']} -> {entry['new']} was interrupted"
    if not entry.get("gave_up"):
        return f"{what}; the next command makes its pod again"
    return (f"{what} and its pod could not be made again ({entry['gave_up']}); "
            f"`symposium-tui security {taskspace} LEVEL{on}` makes it, `symposium-tui rm {taskspace}{on}` "
            "removes it")
