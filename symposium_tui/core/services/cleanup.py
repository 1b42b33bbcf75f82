"""Plan and apply cleanup of inactive taskspaces and GC of orphaned volumes.

A plan changes nothing. Apply works through the plan in parallel and re-checks each item under
its taskspace's lock just before removing it: a taskspace that became active since the plan, or a
volume whose taskspace came back, is skipped and reported.

GC takes a taskspace for gone only when it has no pod and nothing says it is coming back: not
locked (being created, changed or removed), no journal of an interrupted create or level change,
not in the registry. A gone taskspace's workspace is checked for unsaved work first, as cleanup
does; its agent state goes only past its retention, counted from its recorded removal.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.cleanup import (
    WORK_ROLES,
    CleanupItem,
    GcItem,
    TaskspaceFacts,
    Thing,
    last_activity,
    plan_cleanup,
    plan_gc,
    status_of,
)
from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal
from symposium_tui.core.ids import pod_name
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventories
from symposium_tui.core.services.journal import Journal, why_held
from symposium_tui.core.services.lifecycle import Inventory, Lifecycle
from symposium_tui.core.taskspace import REMOVED_WITH_TASKSPACE

Progress = Callable[[str, str], None]  # (item, what happened)


@dataclass(frozen=True)
class CleanupPlan:
    items: tuple[CleanupItem, ...]
    inactive_for: timedelta
    include_running: bool
    made_at: datetime

    @property
    def bytes_reclaimed(self) -> int:
        return sum(i.bytes_reclaimed for i in self.items)

    def as_dict(self) -> dict[str, object]:
        return {"dry_run": True, "inactive_for_seconds": self.inactive_for.total_seconds(),
                "include_running": self.include_running, "made_at": self.made_at.isoformat(timespec="seconds"),
                "items": [i.as_dict() for i in self.items], "bytes_reclaimed": self.bytes_reclaimed}


@dataclass(frozen=True)
class GcPlan:
    items: tuple[GcItem, ...]
    kept: tuple[GcItem, ...]

    @property
    def bytes_reclaimed(self) -> int:
        return sum(i.volume.bytes for i in self.items)

    def as_dict(self) -> dict[str, object]:
        return {"dry_run": True, "items": [i.as_dict() for i in self.items],
                "kept": [i.as_dict() for i in self.kept], "bytes_reclaimed": self.bytes_reclaimed}


@dataclass(frozen=True)
class Outcome:
    item: str
    result: str  # "removed", "skipped: ...", "failed: ..."
    bytes: int = 0

    @property
    def removed(self) -> bool:
        return self.result == "removed"

    def as_dict(self) -> dict[str, object]:
        return {"item": self.item, "result": self.result, "bytes": self.bytes if self.removed else 0}


class Cleanup:
    def __init__(self, ctx: LifecycleContext, now: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.lifecycle = Lifecycle(ctx)
        self.now = now or (lambda: datetime.now(timezone.utc))

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.ctx.settings.state_retention_days)

    # -- facts -----------------------------------------------------------------------------------
    def _facts(self, sizes: bool = True) -> tuple[dict[str, TaskspaceFacts], list, dict[str, int]]:
        seen = self.backend.observe(L.ALL_OURS)
        pods, containers = list(seen.pods), list(seen.containers)
        volumes, networks = list(seen.volumes), list(seen.networks)
        registry = self.ctx.registry.read()
        facts = {t: TaskspaceFacts(t, inv.pod, inv.containers, inv.volumes, registry.get(t, {}), inv.networks)
                 for t, inv in inventories(pods, containers, volumes, networks).items() if inv.pod is not None}
        return facts, volumes, self.backend.volume_sizes(volumes) if sizes else {}

    # -- cleanup ---------------------------------------------------------------------------------
    def plan(self, inactive_for: timedelta, include_running: bool = False, check_work: bool = True) -> CleanupPlan:
        """check_work: look for unsaved work in the taskspaces (stopped ones all in one probe
        container) and warn about it."""
        facts, _, sizes = self._facts()
        now = self.now()
        items = [replace(item, commands=self._commands(item)) for item in
                 plan_cleanup(list(facts.values()), sizes, now, inactive_for, self.retention, include_running)]
        if not check_work or not items:
            return CleanupPlan(tuple(items), inactive_for, include_running, now)
        works = self.lifecycle.unsaved_work_many({i.taskspace: _inventory(facts[i.taskspace]) for i in items})
        warned = []
        for item in items:
            work = works[item.taskspace]
            warned.append(replace(item, unsaved=work.describe() if work.any else ""))
        return CleanupPlan(tuple(warned), inactive_for, include_running, now)

    def _commands(self, item: CleanupItem) -> tuple[str, ...]:
        return tuple(command for kind in ("pod", "volume", "network") for command in
                     self.backend.removal_commands(kind, [t.name for t in item.remove if t.kind == kind]))

    def apply(self, plan: CleanupPlan, *, force: bool = False, progress: Progress | None = None,
              workers: int = 4) -> list[Outcome]:
        report = progress or (lambda item, what: None)

        def one(item: CleanupItem) -> Outcome:
            report(item.taskspace, "re-checking")
            try:
                # Re-read just before removing, under its lock: a start, a create or a remove
                # of it meanwhile either waits for this or makes this skip it.
                with self.ctx.taskspace_lock(item.taskspace):
                    outcome = self._remove_if_still(item, plan, force)
            except SymposiumError as exc:
                outcome = Outcome(item.taskspace, f"skipped: {exc.message}")
            report(item.taskspace, outcome.result)
            return outcome
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(one, plan.items))

    def _remove_if_still(self, item: CleanupItem, plan: CleanupPlan, force: bool) -> Outcome:
        inventory = self.lifecycle.inventory(item.taskspace)
        facts = None if inventory.pod is None else TaskspaceFacts(
            item.taskspace, inventory.pod, inventory.containers, inventory.volumes,
            self.ctx.registry.read().get(item.taskspace, {}), inventory.networks)
        if why_not := self._no_longer(item, plan, facts):
            return Outcome(item.taskspace, f"skipped: {why_not}")
        if not force and (work := self.lifecycle.unsaved_work(item.taskspace, inventory)).any:
            return Outcome(item.taskspace, f"skipped: it holds work that exists nowhere else: {work.describe()}")
        try:
            self.lifecycle.remove(item.taskspace, purge_state=item.purge_state, force=True,
                                  inventory=inventory, locked=True)
        except SymposiumError as exc:
            verb = "skipped" if isinstance(exc, UnsavedWorkRefusal) else "failed"
            return Outcome(item.taskspace, f"{verb}: {exc.message}")
        return Outcome(item.taskspace, "removed", item.bytes_reclaimed)

    def _no_longer(self, item: CleanupItem, plan: CleanupPlan, facts: TaskspaceFacts | None) -> str:
        """Why the item should not be removed after all ("": it still should)."""
        if facts is None:
            return "it no longer exists"
        if status_of(facts) == "running" and not plan.include_running:
            return "it is running again"
        when, _ = last_activity(facts)
        if when is not None and self.now() - when < plan.inactive_for:
            return f"it became active since the plan (last activity {when:%Y-%m-%d %H:%M:%S} UTC)"
        return ""

    # -- volume GC -------------------------------------------------------------------------------
    def plan_gc(self, check_work: bool = True) -> GcPlan:
        """check_work: look for unsaved work in the workspaces of taskspaces that are gone (each in
        a probe container of its own) and warn about it."""
        facts, volumes, sizes = self._facts()
        repos = {f.pod.labels.get(L.REPO) for f in facts.values() if f.pod}
        networks = self.backend.observe(L.ALL_OURS, kinds=("networks",)).networks
        podless = {t for thing in (*volumes, *networks) if (t := L.taskspace_of(thing.labels)) and t not in facts}
        goes, stays = plan_gc(volumes, set(facts), repos, sizes, self.ctx.removed_at(), self.now(),
                              self.retention, networks, self._held(podless))
        going = {i.volume.name for i in goes}
        for base in sorted(v.name for v in volumes if v.labels.get(L.ROLE) == "project-base"
                           and L.is_ours(v.labels) and v.name not in going):
            more_goes, more_stays = self._plan_generations(base)
            goes += more_goes
            stays += more_stays
        if check_work:
            goes = self._warn_of_work(goes, volumes)

        def spelled(item: GcItem) -> GcItem:
            return replace(item, command="; ".join(self.backend.removal_commands(item.volume.kind, [item.volume.name])))
        return GcPlan(tuple(map(spelled, goes)), tuple(map(spelled, stays)))

    def _plan_generations(self, base: str) -> tuple[list[GcItem], list[GcItem]]:
        """A kept base's generations: the ones no workspace reads go (the base stays for the
        taskspaces that read the others; a create makes a generation again from the newest)."""
        goes, stays = [], []
        try:
            generations = self.backend.generations(base, self.ctx.settings.images.agent)
        except SymposiumError as exc:
            return [], [GcItem(Thing("generation", f"{base}/*", "base-generation"), "",
                               f"its generations could not be read: {exc.message}")]
        for generation in generations:
            thing = Thing("generation", f"{base}/{generation.commit}", "base-generation", generation.bytes)
            label = "the files of the first version (before generations)" if generation.commit == "repo" \
                else f"the files at commit {generation.commit[:12]}"
            if generation.users:
                stays.append(GcItem(thing, "", f"{label}, read by the workspace of "
                                               f"{', '.join(generation.users)}"))
            else:
                goes.append(GcItem(thing, "", f"{label}: no taskspace's workspace reads them any more"))
        return goes, stays

    def _gc_generation(self, item: GcItem) -> Outcome:
        """Under the base's lock, which a create holds until its workspace reads its generation."""
        base, _, commit = item.volume.name.rpartition("/")
        image = self.ctx.settings.images.agent
        try:
            with self.ctx.base_lock(base):
                now = next((g for g in self.backend.generations(base, image) if g.commit == commit), None)
                if now is None:
                    return Outcome(item.volume.name, "skipped: already gone")
                if now.users:
                    return Outcome(item.volume.name, f"skipped: {', '.join(now.users)} reads it now")
                self.backend.remove_generation(base, commit, image)
            return Outcome(item.volume.name, "removed", item.volume.bytes)
        except SymposiumError as exc:
            return Outcome(item.volume.name, f"failed: {exc.message}")

    def _held(self, taskspaces: set[str]) -> dict[str, str]:
        """Taskspaces without a pod that are not gone, and why: one being created, changed or
        removed (its lock is held), one whose create or level change was interrupted, one the
        registry still has (a level change between its two pods)."""
        registry = self.ctx.registry.read()
        journals = {e["taskspace"]: e for e in Journal(self.ctx).pending()}
        held = {}
        for taskspace in sorted(taskspaces):
            if self.ctx.is_busy(taskspace):
                held[taskspace] = "it is being created, changed or removed right now"
            elif taskspace in journals:
                held[taskspace] = why_held(journals[taskspace], self.ctx.host)
            elif taskspace in registry:
                held[taskspace] = (f"the registry still has it (`symposium-tui ls` forgets it if nothing is "
                                   f"changing it; `symposium-tui rm {taskspace}` removes what is left)")
        return held

    def _warn_of_work(self, goes: list[GcItem], volumes: list) -> list[GcItem]:
        workspaces = {i.taskspace for i in goes if i.taskspace and i.volume.role in WORK_ROLES}
        if not workspaces:
            return goes
        works = self.lifecycle.unsaved_work_many({t: Inventory(None, (), tuple(
            v for v in volumes if L.taskspace_of(v.labels) == t), ()) for t in sorted(workspaces)})
        return [replace(i, unsaved=works[i.taskspace].describe())
                if i.volume.role in WORK_ROLES and i.taskspace in works and works[i.taskspace].any else i
                for i in goes]

    def apply_gc(self, plan: GcPlan, *, force: bool = False, progress: Progress | None = None,
                 workers: int = 4) -> list[Outcome]:
        """Each taskspace's items together, under its lock, re-read just before: its pod, journal,
        registry record and (unless force) its workspace's unsaved work."""
        report = progress or (lambda item, what: None)
        units: dict[str, list[GcItem]] = {}
        for item in plan.items:
            units.setdefault(item.taskspace or f"/{item.volume.name}", []).append(item)  # "/" is in no id

        def unit(items: list[GcItem]) -> list[Outcome]:
            taskspace = items[0].taskspace
            if not taskspace:
                outcomes = [self._gc_generation(items[0]) if items[0].volume.kind == "generation"
                            else self._gc_volume(items[0])]
            else:
                report(taskspace, "re-checking")
                try:
                    with self.ctx.taskspace_lock(taskspace):
                        outcomes = self._gc_taskspace(taskspace, items, force)
                except SymposiumError as exc:
                    outcomes = [Outcome(i.volume.name, f"skipped: {exc.message}") for i in items]
            for outcome in outcomes:
                report(outcome.item, outcome.result)
            return outcomes
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return [outcome for outcomes in pool.map(unit, units.values()) for outcome in outcomes]

    def _gc_taskspace(self, taskspace: str, items: list[GcItem], force: bool) -> list[Outcome]:
        if self.backend.find("pod", pod_name(taskspace)) is not None:
            why_not = f"taskspace {taskspace} exists again"
        elif (entry := Journal(self.ctx).entry(taskspace)) is not None:
            why_not = why_held(entry, self.ctx.host)
        elif taskspace in self.ctx.registry.read():
            why_not = f"taskspace {taskspace} is registered again"
        else:
            why_not = ""
        if why_not:
            return [Outcome(i.volume.name, f"skipped: {why_not}") for i in items]
        work = ""
        if not force and any(i.volume.role in WORK_ROLES for i in items):
            try:
                found = self.lifecycle.unsaved_work(taskspace, self.lifecycle.inventory(taskspace))
                work = f"it holds work that exists nowhere else: {found.describe()}" if found.any else ""
            except SymposiumError as exc:
                work = f"its workspace could not be checked: {exc.message}"
        outcomes = []
        for item in sorted(items, key=_removal_order):  # views before what they are views of
            if work and item.volume.role in WORK_ROLES:
                outcomes.append(Outcome(item.volume.name, f"skipped: {work}"))
            else:
                outcomes.append(self._gc_network(item) if item.volume.kind == "network" else self._gc_volume(item))
        return outcomes

    def _gc_volume(self, item: GcItem) -> Outcome:
        name = item.volume.name
        volume = self.backend.find("volume", name)
        if volume is None:
            return Outcome(name, "skipped: already gone")
        if not L.is_ours(volume.labels):
            return Outcome(name, "skipped: not created by symposium-tui")
        if item.volume.role == "project-base" and self._repo_in_use(volume.labels.get(L.REPO)):
            return Outcome(name, "skipped: a taskspace uses this repository again")
        try:
            self.backend.remove("volume", name)
            return Outcome(name, "removed", item.volume.bytes)
        except SymposiumError as exc:
            return Outcome(name, f"failed: {exc.message}")

    def _gc_network(self, item: GcItem) -> Outcome:
        try:
            self.backend.remove_network(item.taskspace, ())  # its firewall rules
            self.backend.remove("network", item.volume.name)
            return Outcome(item.volume.name, "removed")
        except SymposiumError as exc:
            return Outcome(item.volume.name, f"failed: {exc.message}")

    def _repo_in_use(self, repo: str | None) -> bool:
        return any(p.labels.get(L.REPO) == repo for p in self.backend.observe(L.ALL_OURS, kinds=("pods",)).pods
                   if p.labels.get(L.ROLE) == "pod")


def _removal_order(item: GcItem) -> int:
    order = ("network", *REMOVED_WITH_TASKSPACE, "agent-state")
    return order.index(item.volume.role) if item.volume.role in order else len(order)


def _inventory(facts: TaskspaceFacts) -> Inventory:
    return Inventory(facts.pod, facts.containers, facts.volumes, facts.networks)
