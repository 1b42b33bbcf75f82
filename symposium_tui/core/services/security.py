"""Change a taskspace's security level: podman sets a pod's network when the pod is made, so the
pod and its two containers are made again on the same volumes (project changes, build cache and
agent state survive; running processes do not). If the new level cannot be set up, the old one is
put back.

A change is journaled like a create (journal.py): the old and new level, whether it was running
and what its pod is made from are written before the old pod is removed, then the level whose pod
is being made. Killed half-way, the next command (recovery.Recovery.run) finishes it with resume():
the pod is made again at the level the journal names, else at the old one. If neither can be
made, the taskspace stays registered without a pod (gc-volumes and cleanup leave its volumes
alone), the journal stays (marked given up, not tried again on its own), and the person is told to
run `security ID LEVEL` (which takes it from there) or `rm ID`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from symposium_tui.core import labels as L
from symposium_tui.core.backend import Inventory, Storage
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.policy import Limits
from symposium_tui.core.registry import now_iso
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.create import Creator, Launch, Progress
from symposium_tui.core.services.journal import Journal
from symposium_tui.core.services.lifecycle import Lifecycle
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.resources import Resources
from symposium_tui.core.services.rollback import Rollback
from symposium_tui.core.taskspace import Taskspace


@dataclass(frozen=True)
class LevelRecovered:
    """What the next command did about a level change killed half-way."""

    taskspace: str
    pid: int
    old: str
    new: str
    level: str  # the level its pod has now ("": it has none)
    what: str

    def describe(self) -> str:
        return (f"taskspace {self.taskspace}: its security change {self.old} -> {self.new} (process "
                f"{self.pid}) was interrupted; {self.what}")


class SecurityChange:
    def __init__(self, ctx: LifecycleContext, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.progress = progress
        self.journal = Journal(ctx)

    def change(self, taskspace: str, level: str) -> tuple[str, Taskspace]:
        """Returns (the old level, the taskspace as it is now). A taskspace left without a pod by
        an interrupted change is taken from where it stopped."""
        validate_id(taskspace)
        if level not in LEVELS:
            raise UsageError(f"unknown security level {level!r}; choose from {', '.join(LEVELS)}")
        lifecycle = Lifecycle(self.ctx)
        with self.ctx.taskspace_lock(taskspace):
            entry = self.journal.entry(taskspace)
            if entry is not None and entry["kind"] != "security":
                raise SymposiumError(f"an interrupted create of {taskspace!r} is not finished off yet",
                                     hint=f"symposium-tui ls{self._on_host()} finishes it (and says what is left)")
            if entry is None:
                inventory = lifecycle.require_pod(taskspace)
                old = inventory.security
                if old == level:
                    return old, _row(lifecycle, taskspace)
                if level != "open" and (why := self.backend.firewall_unavailable()):
                    raise SymposiumError(why, hint="nothing was changed")
                entry = self._begin(taskspace, old, level, inventory)
                self._take_down(taskspace, inventory)
                now, failures = self._remake(entry, (level, old))
            else:  # left without a pod by an interrupted change: taken from there
                old = entry["old"]
                now, failures = self._remake(entry, (level, old), lifecycle.inventory(taskspace))
        if now is None:
            raise SymposiumError("; ".join(f"the {lvl} level: {why}" for lvl, why in failures),
                                 hint=self._stuck_hint(taskspace))
        if now != level:
            raise SymposiumError(f"{failures[0][1]}; {taskspace} is back at the {now} level")
        return old, _row(lifecycle, taskspace)

    def resume(self, entry: dict) -> LevelRecovered:
        """Finish a change whose process is gone; the caller holds the taskspace's lock."""
        taskspace, old, new, making = entry["taskspace"], entry["old"], entry["new"], entry.get("making")

        def told(level: str, what: str) -> LevelRecovered:
            return LevelRecovered(taskspace, int(entry.get("pid") or 0), old, new, level, what)
        if self.ctx.registry.read().get(taskspace, {}).get("change_id") == entry["create_id"]:
            self.journal.end(taskspace)  # registered: it had finished, only the journal was left
            return told(new, f"it had finished: it is at the {new} level")
        inventory = Lifecycle(self.ctx).inventory(taskspace)
        if inventory.empty:  # all of it removed by other means meanwhile: nothing left to make a pod of
            self.journal.end(taskspace)
            self.ctx.registry.remove(taskspace, after=self.ctx.write_ssh_config)
            return told("", "nothing of it is left on the engine: it is forgotten")
        roles = {c.labels.get(L.ROLE) for c in inventory.containers}
        if making is None and inventory.pod is not None and {"agent", "dev"} <= roles and inventory.security == old:
            self.journal.end(taskspace)  # killed before it removed anything
            return told(old, f"nothing had changed yet: it stays at the {old} level")
        now, failures = self._remake(entry, (making or old, old), inventory)
        tried = "; ".join(f"the {lvl} level: {why}" for lvl, why in failures)
        if now is None:
            return told("", f"its pod could not be made again ({tried}); it stays registered without a pod, "
                            f"its volumes kept. {self._stuck_hint(taskspace)}")
        return told(now, f"its pod was made again at the {now} level on the same volumes"
                         + (f" ({tried})" if failures else "") + "; its SSH ports changed")

    # -- the steps -------------------------------------------------------------------------------
    def _begin(self, taskspace: str, old: str, level: str, inventory: Inventory) -> dict:
        launch = self._launch_of(taskspace, inventory, level)
        self.journal.begin(taskspace, "security", old=old, new=level, making=None,
                           was_running=any(c.running for c in inventory.containers),
                           launch=_dump(launch), registered=self.ctx.registry.read().get(taskspace, {}))
        entry = self.journal.entry(taskspace)
        if entry is None:
            raise SymposiumError(f"the journal of {taskspace}'s security change could not be read back; "
                                 "nothing was changed")
        return entry

    def _take_down(self, taskspace: str, inventory: Inventory) -> None:
        if inventory.pod is not None:
            self.backend.remove("pod", inventory.pod.name)
        for ctr in inventory.containers:
            self.backend.remove("container", ctr.name)
        TaskspaceNetwork(self.ctx).tear_down(taskspace, inventory.networks)

    def _remake(self, entry: dict, levels: tuple[str, ...],
                inventory: Inventory | None = None) -> tuple[str | None, list[tuple[str, str]]]:
        """Make the pod at the first of `levels` that can be made, register it and end the journal:
        (the level it has now, why the ones before failed). (None, ...): none could; the journal
        says it gave up."""
        taskspace = entry["taskspace"]
        failures: list[tuple[str, str]] = []
        try:
            launch = _load(taskspace, entry["launch"])
            if inventory is not None:  # what is there now: a half-made pod goes, the volumes must be there
                names = {v.name for v in inventory.volumes if L.taskspace_of(v.labels) == taskspace}
                if missing := [n for n in launch.storage.volumes if n not in names]:
                    raise SymposiumError(f"its volume {missing[0]} is gone")
                self._take_down(taskspace, inventory)
        except SymposiumError as exc:
            failures = [(level, exc.message) for level in dict.fromkeys(levels)]
            levels = ()
        for level in dict.fromkeys(levels):
            if level != "open" and (why := self.backend.firewall_unavailable()):
                failures.append((level, why))
                continue
            self.journal.update(taskspace, making=level, gave_up=None)
            try:
                ports = self._launch(replace(launch, labels=launch.labels | {L.SECURITY: level}),
                                     {L.CREATE: entry["create_id"]})
            except SymposiumError as exc:
                failures.append((level, exc.message))
                continue
            self._register(entry, level, ports)
            self.journal.end(taskspace)
            return level, failures
        self.journal.update(taskspace, gave_up="; ".join(f"the {lvl} level: {why}" for lvl, why in failures))

        def keep(entries: dict[str, dict[str, Any]]) -> None:  # registered, so gc and cleanup leave it be
            _keep(entries, entry)
        self.ctx.registry.update(keep, after=self.ctx.write_ssh_config)
        return None, failures

    def _launch(self, launch: Launch, mark: dict[str, str]) -> tuple[int, int]:
        rollback = Rollback()
        creator = Creator(self.ctx, self.progress)
        creator.mark = mark  # what this change makes carries its id, as a create's objects do
        try:
            return creator.launch(launch, rollback)
        except BaseException:
            rollback.run()
            raise

    def _register(self, entry: dict, level: str, ports: tuple[int, int]) -> None:
        taskspace, was_running = entry["taskspace"], bool(entry.get("was_running"))
        self.ctx.forget_host_keys(taskspace)
        if not was_running:  # made running to check SSH; left as the person had it
            self.backend.stop(taskspace)
        fields = {"security": level, "status": "running" if was_running else "stopped",
                  "stopped_by_user": not was_running, "dev_port": ports[0], "agent_port": ports[1],
                  "change_id": entry["create_id"], "last_updated": now_iso()}
        self.ctx.registry.update(lambda entries: _keep(entries, entry).update(fields),
                                 after=self.ctx.write_ssh_config)

    def _on_host(self) -> str:
        return "" if self.ctx.host == "local" else f" --connection {self.ctx.host}"

    def _stuck_hint(self, taskspace: str) -> str:
        return (f"run: symposium-tui security {taskspace} LEVEL{self._on_host()} to make its pod again, "
                f"or: symposium-tui rm {taskspace}{self._on_host()} to remove it (agent state kept)")

    def _launch_of(self, taskspace: str, inventory: Inventory, level: str) -> Launch:
        labels = inventory.pod.labels if inventory.pod else {}
        volumes = {}
        for role in ("project", "workspace", "agent-state", "build-cache"):
            volume = inventory.volume(role)
            if volume is None:
                raise SymposiumError(f"taskspace {taskspace!r} has lost its {role} volume; its pod cannot "
                                     "be made again", hint=f"symposium-tui rm {taskspace}")
            volumes[role] = volume.name
        images = {c.labels.get(L.ROLE): c.image for c in inventory.containers}
        common = {key: labels[key] for key in L.CARRIED if key in labels}
        # made when the taskspace was, not when this pod is
        common[L.CREATED] = labels.get(L.CREATED) or (inventory.pod.created.isoformat(timespec="seconds")
                                                      if inventory.pod and inventory.pod.created else "")
        return Launch(taskspace, common | {L.SECURITY: level}, Resources(self.ctx).current(taskspace),
                      images.get("agent") or self.ctx.settings.images.agent,
                      images.get("dev") or self.ctx.settings.images.dev,
                      Storage(volumes["project"], volumes["workspace"], volumes["agent-state"],
                              volumes["build-cache"]))


def _row(lifecycle: Lifecycle, taskspace: str) -> Taskspace:
    return next(t for t in lifecycle.list().taskspaces if t.id == taskspace)


def _keep(entries: dict[str, dict[str, Any]], entry: dict) -> dict[str, Any]:
    """The taskspace's registry record; the one it had when the change began if something dropped
    it while the taskspace had no pod."""
    registered = entry.get("registered")
    return entries.setdefault(entry["taskspace"], dict(registered) if isinstance(registered, dict) else {})


def _dump(launch: Launch) -> dict[str, Any]:
    return {"labels": launch.labels, "limits": launch.limits.as_dict(), "agent_image": launch.agent_image,
            "dev_image": launch.dev_image, "storage": asdict(launch.storage)}


def _load(taskspace: str, data: dict[str, Any]) -> Launch:
    try:
        limits, storage = data["limits"], data["storage"]
        return Launch(taskspace, {str(k): str(v) for k, v in data["labels"].items()},
                      Limits(int(limits["memory"]), int(limits["cpu"]), int(limits["storage"])),
                      str(data["agent_image"]), str(data["dev_image"]),
                      Storage(*(str(storage[k]) for k in ("layer", "workspace", "state", "cache"))))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SymposiumError(f"its journal does not say what its pod is made from ({exc!r})") from exc
