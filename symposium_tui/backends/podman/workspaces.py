"""Running a script in taskspaces' workspaces: in the running dev container, else in a throwaway
probe container of its own that mounts that workspace alone (read-only, no network), while a
holder container keeps the stopped taskspaces' project disks mounted (the overlay's upper layer
lives on them; podman mounts one container's volumes in no fixed order, and in a pod the infra
container is what holds the disk)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from symposium_tui.backends.podman.specs import PROJECT_MOUNT, ContainerSpec, PodmanEngine, VolumeMount
from symposium_tui.core import labels as L
from symposium_tui.core.backend import Inventory
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import ExecResult, VolumeInfo

PROBES_AT_ONCE = 4  # probe containers of stopped taskspaces in parallel


def running_dev(inventory: Inventory):  # noqa: ANN201 - ContainerInfo | None
    dev = next((c for c in inventory.containers if c.labels.get(L.ROLE) == "dev"), None)
    return dev if dev is not None and dev.running else None


class PodmanWorkspaces:
    """The workspace part of PodmanBackend (its engine is the adapter)."""

    engine: PodmanEngine

    def run_in_workspaces(self, workspaces: dict[str, Inventory], command: tuple[str, ...], user: str,
                          image: str) -> dict[str, ExecResult | SymposiumError]:
        """COMMAND (an argv, run in /workspace's container) as USER in each workspace: an
        ExecResult, or the error of a probe that failed. Running taskspaces run it in
        their dev container (an exec that fails raises)."""
        found: dict[str, ExecResult | SymposiumError] = {}
        stopped = {}
        for taskspace, inventory in workspaces.items():
            if (dev := running_dev(inventory)) is not None:
                found[taskspace] = self.engine.exec(dev.name, list(command), user=user)
            elif inventory.volume("workspace") is not None:
                stopped[taskspace] = inventory
        if not stopped:
            return found
        disks = {t: v for t, i in stopped.items() if (v := i.volume("project")) is not None and v.is_loop}

        def check(taskspace: str) -> tuple[str, ExecResult | SymposiumError]:
            try:
                return taskspace, self._probe(stopped[taskspace], command, user, image)
            except SymposiumError as exc:
                return taskspace, exc
        with self._disks_mounted(disks, image):
            if len(stopped) == 1:
                found.update([check(next(iter(stopped)))])
            else:
                with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:
                    found.update(pool.map(check, sorted(stopped)))
        return found

    def _probe(self, inventory: Inventory, command: tuple[str, ...], user: str, image: str) -> ExecResult:
        """git reads the workspace's config, attributes and filters, so taskspaces are never
        checked next to each other's files."""
        return self.engine.run(ContainerSpec(
            name="", image=image, labels=L.ours("probe"), entrypoint=command[:1],
            command=command[1:], network="none", user=user,
            volumes=(VolumeMount(inventory.volume("workspace").name, "/workspace", read_only=True),)))

    @contextmanager
    def _disks_mounted(self, disks: dict[str, VolumeInfo], image: str) -> Iterator[None]:
        if not disks:
            yield
            return
        holder = f"symposium-disk-holder-{secrets.token_hex(4)}"
        self.engine.create_container(ContainerSpec(
            holder, image, L.ours("probe"), entrypoint=("/bin/sh",),
            command=("-c", "trap 'exit 0' TERM; sleep 600 & wait"), network="none",
            volumes=tuple(VolumeMount(v.name, f"{PROJECT_MOUNT}/{t}", read_only=True) for t, v in disks.items())))
        try:
            self.engine.start_container(holder)
            yield
        finally:
            self.engine.remove_container(holder)
