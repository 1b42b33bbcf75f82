"""Finish off creates and security level changes that were killed half-way.

A create writes a journal (journal.py: state/creating/ID.json, its id, pid, start) before it
touches the engine and labels every object it makes with that id (labels.CREATE); the journal goes when the
create is registered, or when a failed create has undone everything. A journal whose taskspace
lock is free belongs to a process that is gone (kill -9, a crash, a power cut): the next command
removes exactly the objects labelled with that create's id, the taskspace's files and firewall
rules, then the journal. A reused agent-state volume or a shared repository base, made by an
earlier create, is never touched. A security level change killed half-way is finished by
SecurityChange.resume: its pod made again at the level its journal names.
"""

from __future__ import annotations

from dataclasses import dataclass

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.journal import Journal
from symposium_tui.core.services.security import LevelRecovered, SecurityChange


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


class Recovery:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.journal = Journal(ctx)

    def run(self) -> list[Recovered | LevelRecovered]:
        """Finish every interrupted create or level change whose process is gone; cheap when there
        is none. A level change whose pod could not be made again is not tried again on its own:
        the person was told what to run."""
        done: list[Recovered | LevelRecovered] = []
        for entry in self.journal.pending():
            if entry.get("gave_up"):
                continue
            taskspace = entry["taskspace"]
            try:
                with self.ctx.taskspace_lock(taskspace):
                    # Read again under the lock: it may have been finished, or be a newer one.
                    current = self.journal.entry(taskspace)
                    if current is None or current.get("gave_up"):
                        continue
                    pid = int(current.get("pid") or 0)
                    if current["kind"] == "security":
                        done.append(SecurityChange(self.ctx).resume(current))
                    else:
                        done.append(self._finish(taskspace, str(current["create_id"]), pid))
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
            attempt(f"firewall rules of {taskspace}", lambda: self.backend.remove_network(taskspace, ()))
        for network in made.networks:
            attempt(f"network {network.name}", lambda n=network.name: self.backend.remove("network", n))
        # The overlay and the cache are views on the project disk: they go before it.
        order = {"workspace": 0, "build-cache": 1, "project": 2}
        for volume in sorted(made.volumes, key=lambda v: order.get(v.labels.get(L.ROLE, ""), 3)):
            attempt(f"volume {volume.name}", lambda n=volume.name: self.backend.remove("volume", n))
        if not problems:
            # The id's files and pins go only when no taskspace of that id is there: a create of an
            # id that exists (killed before it found out) made nothing of its own to remove.
            exists = taskspace in self.ctx.registry.read_all() or self.backend.find("pod", pod_name(taskspace)) is not None
            if not exists:
                self.ctx.remove_taskspace_files(taskspace)
                self.ctx.forget_host_keys(taskspace)
            self.journal.end(taskspace)
        return Recovered(taskspace, pid, tuple(removed), tuple(problems))
