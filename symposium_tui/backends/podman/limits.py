"""A taskspace's limits on podman: the pod's (pod update, or its cgroup on a local engine) and
each container's own (the container update API), and what the processes read from their cgroup.

podman 4.3 has no pod update and forgets container updates on restart: core keeps the effective
limits and asks for them again after every start."""

from __future__ import annotations

from collections.abc import Callable

from symposium_tui.backends.podman.specs import PodmanEngine
from symposium_tui.core.backend import Felt
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import container_name, pod_name
from symposium_tui.core.policy import Limits

FELT_SCRIPT = r"""
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu.max
else
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi
"""


def parse_felt(text: str) -> Felt:
    lines = text.split()
    if len(lines) < 3:
        raise SymposiumError(f"unexpected cgroup reading: {text!r}")
    memory = None if lines[0] == "max" or int(lines[0]) >= 2**62 else int(lines[0])
    quota, period = lines[1], int(lines[2])
    cpu = None if quota in ("max", "-1") else int(quota) * 1000 // period
    return Felt(memory, cpu)


class PodmanLimits:
    """The limits part of PodmanBackend (its engine is the adapter)."""

    engine: PodmanEngine

    def apply_limits(self, taskspace: str, old: Limits, new: Limits, members: list[str]) -> str:
        """Widen the pod, set the containers, then narrow the pod: each step stays within the
        pod's limit, which a container's own limit may never exceed. Returns how it was done."""
        pod = pod_name(taskspace)
        wide = Limits(max(old.memory, new.memory), max(old.cpu, new.cpu), new.storage)
        method = self.engine.set_pod_limits(pod, wide.memory, wide.cpu)
        try:
            for name in members:
                self.engine.update_container(name, new.memory, new.cpu)
        except SymposiumError:
            for name in members:  # back to where we were, as far as possible
                try:
                    self.engine.update_container(name, old.memory, old.cpu)
                except SymposiumError:
                    pass
            self.engine.set_pod_limits(pod, old.memory, old.cpu)
            raise
        self.engine.set_pod_limits(pod, new.memory, new.cpu)
        return method

    def set_member_limits(self, member: str, limits: Limits) -> None:
        self.engine.update_container(member, limits.memory, limits.cpu)

    def taskspace_limits(self, taskspace: str) -> tuple[int | None, int | None]:
        """(memory, CPU millicores) the taskspace as a whole has now."""
        return self.engine.pod_limits(pod_name(taskspace))

    def make_room(self, taskspace: str, memory: Callable[[], int]) -> None:
        """Before a start: containers made before their CPU quota was set live (older versions)
        carry one from their creation, which podman writes again at every start; the kernel
        refuses it above the pod's, so widen the pod to it first (the limits put back after
        the start narrow it again)."""
        pod = pod_name(taskspace)
        created = [c.created_cpu_millis for role in ("agent", "dev")
                   if (c := self.engine.container(container_name(taskspace, role))) is not None
                   and c.created_cpu_millis]
        if not created:
            return
        pod_memory, cpu = self.engine.pod_limits(pod)
        if cpu is not None and cpu < max(created):
            self.engine.set_pod_limits(pod, pod_memory or memory(), max(created))

    def felt_limits(self, member: str) -> Felt:
        result = self.engine.exec(member, ["sh", "-c", FELT_SCRIPT])
        if result.exit_code != 0:
            raise SymposiumError(f"cannot read the cgroup limits in {member}: {result.stderr.strip()}")
        return parse_felt(result.stdout)
