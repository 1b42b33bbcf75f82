"""Export a taskspace as Kubernetes YAML: podman's kube generation as the base, then its volumes as
PersistentVolumeClaims sized from the storage limit, its effective limits as resources, its labels
kept (values Kubernetes cannot take as labels become annotations), host ports dropped, and a note
of what does not carry over."""

from __future__ import annotations

import re

import yaml

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.lifecycle import Lifecycle
from symposium_tui.core.services.resources import Resources

NOTE = """\
# Exported by symposium-tui from taskspace {taskspace}.
# What does not carry over to Kubernetes:
# - copy-on-write layering: the workspace claim ({workspace}) is an overlay of the repository's
#   base and the project layer on this engine; in a cluster it is a plain volume, seed it with a
#   clone (an init container, or a job) before use;
# - the project disk's size limit (a loop-mounted ext4 file system here): the claims ask for the
#   storage limit instead;
# - loopback port publishing (127.0.0.1:{dev_port} and :{agent_port} here): reach the SSH ports
#   2222 (dev) and 2223 (agent) with `kubectl port-forward` or a Service;
# - the network security level ({security}): use a NetworkPolicy;
# - host paths (the agent's config, auth and context): replace them with a Secret or ConfigMap.
"""
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")
STATE_CLAIM = 1 * 2**30


def kube_quantity(size: int) -> str:
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


class KubeExport:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend

    def export(self, taskspace: str) -> str:
        inventory = Lifecycle(self.ctx).require_pod(taskspace)
        documents = [d for d in yaml.safe_load_all(self.backend.generate_kube(taskspace)) if d]
        pods = [d for d in documents if d.get("kind") == "Pod"]
        if not pods:
            raise SymposiumError(f"the engine's kube generation for {taskspace} gave no Pod")
        limits = Resources(self.ctx).current(taskspace)
        pod = pods[0]
        labels = {k: v for k, v in inventory.pod.labels.items() if k.startswith("io.symposium.")}
        metadata = pod.setdefault("metadata", {})
        metadata.setdefault("labels", {}).update({k: v for k, v in labels.items() if _LABEL_VALUE.match(v)})
        moved = {k: v for k, v in labels.items() if not _LABEL_VALUE.match(v)}
        if moved:
            metadata.setdefault("annotations", {}).update(moved)
        for container in pod.get("spec", {}).get("containers", []):
            container["resources"] = {"limits": {"memory": kube_quantity(limits.memory),
                                                 "cpu": f"{limits.cpu}m"}}
            for port in container.get("ports", []) or []:
                port.pop("hostPort", None)
                port.pop("hostIP", None)
        claims = []
        roles = {v.name: v.labels.get(L.ROLE, "") for v in inventory.volumes}
        for volume in pod.get("spec", {}).get("volumes", []) or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            size = STATE_CLAIM if roles.get(claim) == "agent-state" else limits.storage
            claims.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                           "metadata": {"name": claim, "labels": {
                               L.OWNER: L.OWNER_VALUE, L.TASKSPACE: taskspace, L.ROLE: roles.get(claim, "")}},
                           "spec": {"accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": kube_quantity(size)}}}})
        workspace = inventory.volume("workspace")
        entry = self.ctx.registry.read().get(taskspace, {})
        note = NOTE.format(taskspace=taskspace, workspace=workspace.name if workspace else "-",
                           dev_port=entry.get("dev_port", "-"), agent_port=entry.get("agent_port", "-"),
                           security=inventory.security)
        others = [d for d in documents if d is not pod and d.get("kind") != "PersistentVolumeClaim"]
        return note + yaml.safe_dump_all([*claims, pod, *others], sort_keys=False)
