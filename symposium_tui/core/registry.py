"""The taskspace registry: the seed's JSON (id → status, ports, last_updated, ...) in the state dir.

Every change is a read-modify-write under an exclusive file lock and lands atomically. The engine is
the source of truth; `reconcile` brings the registry in line with what the engine shows and reports
the drift it found.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write, locked

Entries = dict[str, dict[str, Any]]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Drift:
    registry_only: tuple[str, ...]  # in the registry, gone from the engine
    engine_only: tuple[str, ...]  # in the engine, missing from the registry

    @property
    def any(self) -> bool:
        return bool(self.registry_only or self.engine_only)

    def of(self, taskspace: str) -> str:
        if taskspace in self.registry_only:
            return "gone from engine"
        if taskspace in self.engine_only:
            return "not in registry"
        return ""


class Registry:
    """One host's registry file. Several engines of this machine share it (they are all "local"):
    ENGINE ("" for the machine's own engine, else a socket's URL) scopes what read, update,
    reconcile and remove see to that engine's entries, so one engine's reconcile never drops
    another's; the SSH config is still written from every entry. A taskspace id is this machine's
    across its engines: create refuses one another engine holds (owner_elsewhere)."""

    def __init__(self, path: Path, engine: str = "") -> None:
        self.path = path
        self.engine = engine
        self.lock_path = path.with_name(path.name + ".lock")
        self.notices: list[str] = []  # what a read found and did (a corrupt file moved aside)

    def _mine(self, entry: dict[str, Any]) -> bool:
        return (entry.get("engine") or "") == self.engine

    def read(self) -> Entries:
        """This engine's entries."""
        return {t: e for t, e in self.read_all().items() if self._mine(e)}

    def owner_elsewhere(self, taskspace: str) -> str | None:
        """The engine ("" the machine's own) that holds TASKSPACE, if not this one and it is
        still there (an engine's socket that is gone leaves only stale entries)."""
        entry = self.read_all().get(taskspace)
        if entry is None or self._mine(entry):
            return None
        engine = entry.get("engine") or ""
        if not isinstance(engine, str):
            return None
        if engine.startswith("unix://") and not os.path.exists(engine.removeprefix("unix://")):
            return None
        return engine

    def read_all(self) -> Entries:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SymposiumError(f"cannot read the registry {self.path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
                raise ValueError("not a mapping of taskspaces")
        except (ValueError, RecursionError):
            self._move_aside()
            return {}
        return data

    def _move_aside(self) -> None:
        """Keep the damaged file for a look, and start again: the next reconcile rebuilds the
        registry from the engine (which is the truth; the registry only adds what podman cannot
        hold, such as when a taskspace was stopped on purpose)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return  # someone moved it aside a moment ago
        except OSError as exc:
            raise SymposiumError(f"the registry {self.path} is corrupt and cannot be moved aside: "
                                 f"{exc.strerror or exc}") from exc
        self.notices.append(f"the registry {self.path} was corrupt: moved aside to {aside.name}; "
                            "rebuilt from the engine")

    def take_notices(self) -> list[str]:
        notices, self.notices = self.notices, []
        return notices

    def update(self, change: Callable[[Entries], Entries | None],
               after: Callable[[Entries], None] | None = None) -> Entries:
        """Apply change() to the entries under the lock; after() runs under the same lock."""
        with locked(self.lock_path):
            every = self.read_all()
            before = json.dumps(every, sort_keys=True)  # change() edits the entries in place
            entries = {t: e for t, e in every.items() if self._mine(e)}
            others = {t: e for t, e in every.items() if t not in entries}
            changed = change(entries)
            entries = entries if changed is None else changed
            if self.engine:
                for entry in entries.values():
                    entry["engine"] = self.engine
            merged = others | entries
            if json.dumps(merged, sort_keys=True) != before or not self.path.exists():
                atomic_write(self.path, json.dumps(merged, indent=2, sort_keys=True) + "\n")
            if after is not None:
                after(merged)
            return entries

    def put(self, taskspace: str, fields: dict[str, Any],
            after: Callable[[Entries], None] | None = None) -> Entries:
        def change(entries: Entries) -> None:
            entry = entries.setdefault(taskspace, {})
            entry.update(fields)
            entry["last_updated"] = now_iso()
        return self.update(change, after)

    def remove(self, taskspace: str, after: Callable[[Entries], None] | None = None) -> Entries:
        return self.update(lambda entries: entries.pop(taskspace, None) and None, after)

    def reconcile(self, seen: dict[str, dict[str, Any]], after: Callable[[Entries], None] | None = None,
                  keep: set[str] | frozenset[str] = frozenset()) -> Drift:
        """Make the registry match the engine: `seen` maps each taskspace the engine has to fields;
        those in `keep` stay registered though the engine lacks them (their pod is being made
        again)."""
        found: dict[str, Drift] = {}

        def change(entries: Entries) -> None:
            drift = Drift(tuple(sorted(set(entries) - set(seen))), tuple(sorted(set(seen) - set(entries))))
            found["drift"] = drift
            for gone in set(drift.registry_only) - set(keep):
                del entries[gone]
            for taskspace, fields in seen.items():
                entry = entries.setdefault(taskspace, {})
                if any(entry.get(k) != v for k, v in fields.items()):
                    entry.update(fields)
                    entry["last_updated"] = now_iso()
        self.update(change, after)
        return found["drift"]

