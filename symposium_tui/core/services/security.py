"""Change a taskspace's security level: podman sets a pod's network when the pod is made, so the
pod and its two containers are made again on the same volumes (project changes, build cache and
agent state survive; running processes do not). If the new level cannot be set up, the old one is
put back."""

from __future__ import annotations

from dataclasses import replace

from symposium_tui.core import labels as L
from symposium_tui.core.backend import Storage
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.create import Creator, Launch, Progress
from symposium_tui.core.services.rollback import Rollback
from symposium_tui.core.services.lifecycle import Inventory, Lifecycle
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.services.resources import Resources
from symposium_tui.core.taskspace import Taskspace


class SecurityChange:
    def __init__(self, ctx: LifecycleContext, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.progress = progress

    def change(self, taskspace: str, level: str) -> tuple[str, Taskspace]:
        """Returns (the old level, the taskspace as it is now)."""
        validate_id(taskspace)
        if level not in LEVELS:
            raise UsageError(f"unknown security level {level!r}; choose from {', '.join(LEVELS)}")
        lifecycle = Lifecycle(self.ctx)
        inventory = lifecycle.require_pod(taskspace)
        old = inventory.security
        if old == level:
            return old, next(t for t in lifecycle.list().taskspaces if t.id == taskspace)
        if level != "open" and (why := self.backend.firewall_unavailable()):
            raise SymposiumError(why, hint="nothing was changed")
        was_running = any(c.running for c in inventory.containers)
        with self.ctx.taskspace_lock(taskspace):
            launch = self._launch_of(taskspace, inventory, level)
            self.backend.remove("pod", inventory.pod.name)
            for ctr in inventory.containers:
                self.backend.remove("container", ctr.name)
            TaskspaceNetwork(self.ctx).tear_down(taskspace, inventory.networks)
            try:
                ports = self._launch(launch)
            except SymposiumError as exc:
                try:
                    self._launch(replace(launch, labels=launch.labels | {L.SECURITY: old}))
                except SymposiumError as again:
                    exc.message += f"; putting back the {old} level failed too: {again.message}"
                    raise
                exc.message += f"; {taskspace} is back at the {old} level"
                raise
            self.ctx.forget_host_keys(taskspace)
            dev_port, agent_port = ports
            if not was_running:  # made running to check SSH; left as the person had it
                self.backend.stop(taskspace)
            self.ctx.registry.put(taskspace, {"security": level, "status": "running" if was_running else "stopped",
                                              "stopped_by_user": not was_running,
                                              "dev_port": dev_port, "agent_port": agent_port},
                                  after=self.ctx.write_ssh_config)
        return old, next(t for t in lifecycle.list().taskspaces if t.id == taskspace)

    def _launch(self, launch: Launch) -> tuple[int, int]:
        rollback = Rollback()
        try:
            return Creator(self.ctx, self.progress).launch(launch, rollback)
        except BaseException:
            rollback.run()
            raise

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
        common = {key: labels[key] for key in (L.PROJECT, L.REPO, L.TIER, L.PROJECT_TYPE) if key in labels}
        # made when the taskspace was, not when this pod is
        common[L.CREATED] = labels.get(L.CREATED) or (inventory.pod.created.isoformat(timespec="seconds")
                                                      if inventory.pod and inventory.pod.created else "")
        return Launch(taskspace, common | {L.SECURITY: level}, Resources(self.ctx).current(taskspace),
                      images.get("agent") or self.ctx.settings.images.agent,
                      images.get("dev") or self.ctx.settings.images.dev,
                      Storage(volumes["project"], volumes["workspace"], volumes["agent-state"],
                              volumes["build-cache"]))
