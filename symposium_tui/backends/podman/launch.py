"""A taskspace's running parts on podman: its pod (the infra container holds the project disk),
the agent and dev containers on the storage a create made, and the wait until both SSH servers
answer. Also how an existing pod is started or restarted and waited for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from symposium_tui.backends.podman.readiness import PodRepair, wait_ssh_ready
from symposium_tui.backends.podman.specs import (
    PROJECT_MOUNT,
    BindMount,
    ContainerSpec,
    PodmanEngine,
    PodSpec,
    VolumeMount,
)
from symposium_tui.core import labels as L
from symposium_tui.core.agent import container_env, from_labels
from symposium_tui.core.toolchains import BUILD_ENV, CACHE
from symposium_tui.core.backend import LaunchSpec, RepairReport, Undo
from symposium_tui.core.errors import EngineConflict, SymposiumError
from symposium_tui.core.ids import container_name, pod_name
from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT

MEMBERS = (("agent", AGENT_SSH_PORT), ("dev", DEV_SSH_PORT))


def scratch(memory: int) -> dict[str, int]:
    """/tmp and /var/tmp: file systems in memory, each of at most half the memory limit. Their
    pages are the container's memory, so what a process writes there is bounded by its limit
    (ENOSPC first, not the host's disk); they are empty again after each start, as on a host."""
    return {path: max(memory // 2, 16 * 2**20) for path in ("/tmp", "/var/tmp")}


def launch(engine: PodmanEngine, spec: LaunchSpec, undo: Undo, report: RepairReport,
           step: Callable[[str], None]) -> tuple[int, int]:
    """Pod and containers up to SSH answering in both; returns (dev port, agent port)."""
    taskspace, limits, storage = spec.taskspace, spec.limits, spec.storage
    pod = pod_name(taskspace)
    step("pod")
    try:
        limit_labels = {L.MEMORY: str(limits.memory), L.CPU: str(limits.cpu), L.STORAGE: str(limits.storage)}
        engine.create_pod(PodSpec(pod, taskspace, L.ours("pod", taskspace) | spec.labels | limit_labels | spec.mark,
                                  (DEV_SSH_PORT, AGENT_SSH_PORT), limits.memory, limits.cpu,
                                  volumes=(VolumeMount(storage.layer, PROJECT_MOUNT, read_only=True),),
                                  network=spec.network))
    except EngineConflict:
        raise SymposiumError(f"taskspace {taskspace!r} already exists (its pod was just created "
                             "by someone else)") from None
    undo(f"pod {pod}", lambda: engine.remove_pod(pod))
    ports = engine.pod_ports(pod)
    dev_port, agent_port = ports.get(DEV_SSH_PORT), ports.get(AGENT_SSH_PORT)
    if not dev_port or not agent_port:
        raise SymposiumError(f"podman did not publish the SSH ports of {pod} (got {ports})")

    agent = container_name(taskspace, "agent")
    files = spec.agent_files(dev_port, agent_port)
    step("agent")
    _container(engine, ContainerSpec(
        agent, spec.agent_image, L.ours("agent", taskspace) | spec.labels | spec.mark, pod=pod,
        volumes=(VolumeMount(storage.workspace, "/workspace"), VolumeMount(storage.cache, CACHE),
                 VolumeMount(storage.state, "/agent/state")),
        # Read-only bind mounts on this machine; another machine gets root-owned copies.
        binds=tuple(BindMount(str(path), f"/agent/{name}") for name, path in files.items()) if engine.local else (),
        env={"SYMPOSIUM_TASKSPACE": taskspace} | BUILD_ENV | container_env(from_labels(spec.labels)),
        memory=limits.memory, tmpfs=scratch(limits.memory)), undo,
        copy=None if engine.local else files, cpu_millis=limits.cpu)
    step("agent-ready")
    repair = PodRepair(engine, taskspace, report)  # one pod restart at most, for the whole launch
    wait_ssh_ready(engine, agent, agent_port, repair=repair)
    repaired_before_dev = repair.done

    dev = container_name(taskspace, "dev")
    step("dev")
    _container(engine, ContainerSpec(
        dev, spec.dev_image, L.ours("dev", taskspace) | spec.labels | spec.mark, pod=pod,
        volumes=(VolumeMount(storage.workspace, "/workspace"), VolumeMount(storage.cache, CACHE)),
        env={"SYMPOSIUM_TASKSPACE": taskspace} | BUILD_ENV, memory=limits.memory, tmpfs=scratch(limits.memory)), undo,
        cpu_millis=limits.cpu)
    step("dev-ready")
    wait_ssh_ready(engine, dev, dev_port, repair=repair)
    if repair.done and not repaired_before_dev:  # the pod was restarted: the agent's sshd too
        wait_ssh_ready(engine, agent, agent_port)
    if repair.done:  # a restart forgets the containers' live CPU quota
        for name in (agent, dev):
            engine.update_container(name, limits.memory, limits.cpu)
    return dev_port, agent_port


def _container(engine: PodmanEngine, spec: ContainerSpec, undo: Undo, copy: dict[str, Path] | None = None,
               cpu_millis: int = 0) -> None:
    """The container's own CPU quota is set live after each start, never at creation: podman
    writes a created quota again at every start, and once the pod's quota was lowered below
    it (adjust) the kernel refuses it and no start ever succeeds again."""
    engine.create_container(spec)
    undo(f"container {spec.name}", lambda: engine.remove_container(spec.name))
    if copy:
        engine.copy_into(spec.name, "/agent", copy)
    engine.start_container(spec.name)
    if cpu_millis and spec.memory:
        try:
            engine.update_container(spec.name, spec.memory, cpu_millis)
        except SymposiumError:
            if (info := engine.container(spec.name)) is not None and info.running:
                raise
            # it died at once: the wait for its SSH says so, with its output


def bring_up(engine: PodmanEngine, taskspace: str, restart: bool, report: RepairReport) -> dict[int, int]:
    """Start (or restart) the pod and wait until SSH answers in both containers; its ports."""
    pod = pod_name(taskspace)
    (engine.restart_pod if restart else engine.start_pod)(pod)
    ports = engine.pod_ports(pod)
    repair = PodRepair(engine, taskspace, report)
    for role, port in MEMBERS:
        wait_ssh_ready(engine, container_name(taskspace, role), ports.get(port), repair=repair)
    if repair.done:  # the pod was restarted while waiting for the dev container: the agent too
        wait_ssh_ready(engine, container_name(taskspace, "agent"), ports.get(AGENT_SSH_PORT))
    return ports
