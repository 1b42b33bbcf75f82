"""Finish off creates that were killed half-way.

A create writes a journal (state/creating/ID.json: its id, pid, start) before it touches the
engine and labels every object it makes with that id (labels.CREATE); the journal goes when the
create is registered, or when a failed create has undone everything. A journal whose taskspace
lock is free belongs to a process that is gone (kill -9, a crash, a power cut): the next command
removes exactly the objects labelled with that create's id, the taskspace's files and firewall
rules, then the journal. A reused agent-state volume or a shared repository base, made by an
earlier create, is never touched.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.ids import pod_name, validate_id
from symposium_tui.core.services.context import LifecycleContext


@dataclass(frozen=True)
class Recovered:
    taskspace: str
    pid: int
    removed: tuple[str, ...]
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        what = ", ".join(self.removed) or "nothing had been made yet"
        text = (f"taskspace {self.taskspace}: its create (process {self.pid}) was interrupted; "
                f"removed what it had made: {what}")
        if self.problems:
            text += "; could not remove: " + "; ".join(self.problems) + " (tried again next time)"
        return text


class CreateJournal:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.dir = ctx.paths.state_dir / "creating"

    def path(self, taskspace: str) -> Path:
        return self.dir / f"{taskspace}.json"

    def begin(self, taskspace: str) -> str:
        create_id = secrets.token_hex(8)
        atomic_write(self.path(taskspace), json.dumps(
            {"taskspace": taskspace, "create_id": create_id, "pid": os.getpid(), "started": time.time()}))
        return create_id

    def end(self, taskspace: str) -> None:
        self.path(taskspace).unlink(missing_ok=True)

    def pending(self) -> list[dict]:
        try:
            files = sorted(self.dir.glob("*.json"))
        except OSError:
            return []
        found = []
        for path in files:
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                validate_id(str(entry["taskspace"]))
                if path.stem != entry["taskspace"] or not str(entry["create_id"]).isalnum():
                    raise ValueError
            except (OSError, ValueError, KeyError, TypeError, SymposiumError):
                path.unlink(missing_ok=True)  # not one of ours, or torn: nothing can be matched to it
                continue
            found.append(entry)
        return found


class Recovery:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.journal = CreateJournal(ctx)

    def run(self) -> list[Recovered]:
        """Finish every interrupted create whose process is gone; cheap when there is none."""
        done = []
        for entry in self.journal.pending():
            taskspace = entry["taskspace"]
            try:
                with self.ctx.taskspace_lock(taskspace):
                    # Read again under the lock: it may have been finished, or be a newer one.
                    current = next((e for e in self.journal.pending() if e["taskspace"] == taskspace), None)
                    if current is None:
                        continue
                    done.append(self._finish(taskspace, str(current["create_id"]), int(current.get("pid") or 0)))
            except SymposiumError:
                continue  # its create (or a remove) is still running: not interrupted
        return done

    def _finish(self, taskspace: str, create_id: str, pid: int) -> Recovered:
        if self.ctx.registry.read().get(taskspace, {}).get("create_id") == create_id:
            self.journal.end(taskspace)  # it was registered: it finished, only the journal was left
            return Recovered(taskspace, pid, ())
        mark = {L.OWNER: L.OWNER_VALUE, L.CREATE: create_id}
        removed, problems = [], []

        def attempt(what: str, action) -> None:  # noqa: ANN001
            try:
                action()
                removed.append(what)
            except SymposiumError as exc:
                problems.append(f"{what}: {exc.message}")
        # The pod first: it takes its infra container (which carries the pod's labels) and its
        # members along; then what is left (an init container, a container without its pod).
        made = self.backend.observe(mark)
        for pod in made.pods:
            attempt(f"pod {pod.name}", lambda n=pod.name: self.backend.remove("pod", n))
        for ctr in self.backend.observe(mark, kinds=("containers",)).containers:  # what the pods left
            attempt(f"container {ctr.name}", lambda n=ctr.name: self.backend.remove("container", n))
        if made.networks:
            attempt(f"network {', '.join(n.name for n in made.networks)} and the firewall rules of {taskspace}",
                    lambda: self.backend.remove_network(taskspace, made.networks))
        # The overlay and the cache are views on the project disk: they go before it.
        order = {"workspace": 0, "build-cache": 1, "project": 2}
        for volume in sorted(made.volumes, key=lambda v: order.get(v.labels.get(L.ROLE, ""), 3)):
            attempt(f"volume {volume.name}", lambda n=volume.name: self.backend.remove("volume", n))
        if not problems:
            # The id's files and pins go only when no taskspace of that id is there: a create of an
            # id that exists (killed before it found out) made nothing of its own to remove.
            exists = taskspace in self.ctx.registry.read() or self.backend.find("pod", pod_name(taskspace)) is not None
            if not exists:
                self.ctx.remove_taskspace_files(taskspace)
                self.ctx.forget_host_keys(taskspace)
            self.journal.end(taskspace)
        return Recovered(taskspace, pid, tuple(removed), tuple(problems))
