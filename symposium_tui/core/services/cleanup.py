"""Plan and apply cleanup of inactive taskspaces and GC of orphaned volumes.

A plan changes nothing. Apply works through the plan in parallel and re-checks each item just
before removing it: a taskspace that became active since the plan, or a volume whose taskspace came
back, is skipped and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.cleanup import (
    CleanupItem,
    GcItem,
    TaskspaceFacts,
    last_activity,
    plan_cleanup,
    plan_gc,
    status_of,
)
from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal
from symposium_tui.core.ids import pod_name
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventories
from symposium_tui.core.services.lifecycle import Inventory, Lifecycle

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
    def plan_gc(self) -> GcPlan:
        facts, volumes, sizes = self._facts()
        repos = {f.pod.labels.get(L.REPO) for f in facts.values() if f.pod}
        goes, stays = plan_gc(volumes, set(facts), repos, sizes, self.ctx.removed_at(), self.now(),
                              self.retention, self.backend.observe(L.ALL_OURS, kinds=("networks",)).networks)
        def spelled(item: GcItem) -> GcItem:
            return replace(item, command="; ".join(self.backend.removal_commands(item.volume.kind, [item.volume.name])))
        return GcPlan(tuple(map(spelled, goes)), tuple(map(spelled, stays)))

    def apply_gc(self, plan: GcPlan, progress: Progress | None = None, workers: int = 4) -> list[Outcome]:
        report = progress or (lambda item, what: None)

        def one(item: GcItem) -> Outcome:
            name = item.volume.name
            if item.volume.kind == "network":
                return self._gc_network(item, report)
            volume = self.backend.find("volume", name)
            if volume is None:
                outcome = Outcome(name, "skipped: already gone")
            elif not L.is_ours(volume.labels):
                outcome = Outcome(name, "skipped: not created by symposium-tui")
            elif item.taskspace and self.backend.find("pod", pod_name(item.taskspace)) is not None:
                outcome = Outcome(name, f"skipped: taskspace {item.taskspace} exists again")
            elif item.volume.role == "project-base" and self._repo_in_use(volume.labels.get(L.REPO)):
                outcome = Outcome(name, "skipped: a taskspace uses this repository again")
            else:
                try:
                    self.backend.remove("volume", name)
                    outcome = Outcome(name, "removed", item.volume.bytes)
                except SymposiumError as exc:
                    outcome = Outcome(name, f"failed: {exc.message}")
            report(name, outcome.result)
            return outcome
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(one, plan.items))

    def _gc_network(self, item: GcItem, report: Progress) -> Outcome:
        name = item.volume.name
        if self.backend.find("pod", pod_name(item.taskspace)) is not None:
            outcome = Outcome(name, f"skipped: taskspace {item.taskspace} exists again")
        else:
            try:
                network = self.backend.find("network", name)
                self.backend.remove_network(item.taskspace, (network,) if network is not None else ())
                outcome = Outcome(name, "removed" if network is not None else "skipped: already gone")
            except SymposiumError as exc:
                outcome = Outcome(name, f"failed: {exc.message}")
        report(name, outcome.result)
        return outcome

    def _repo_in_use(self, repo: str | None) -> bool:
        return any(p.labels.get(L.REPO) == repo for p in self.backend.observe(L.ALL_OURS, kinds=("pods",)).pods
                   if p.labels.get(L.ROLE) == "pod")


def _inventory(facts: TaskspaceFacts) -> Inventory:
    return Inventory(facts.pod, facts.containers, facts.volumes, facts.networks)
