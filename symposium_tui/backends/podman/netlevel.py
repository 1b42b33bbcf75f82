"""A taskspace's network level on podman (see core.security): open is podman's default network
and no rules; isolated and restricted are a bridge network of the taskspace's own
(`taskspace-ID-net`) with the level's rules, made before its pod, checked (and put back if
something removed them) before every start, refused at once inside the pod's namespace, removed
with it."""

from __future__ import annotations

from symposium_tui.backends.podman.specs import PodmanEngine
from symposium_tui.core import labels as L
from symposium_tui.core.backend import Undo
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name, volume_name
from symposium_tui.core.models import NetworkInfo
from symposium_tui.core.security import AllowRule, FirewallPlan, firewall_plan


def network_name(taskspace: str) -> str:
    return volume_name(taskspace, "net")


class PodmanNetworkLevel:
    """The network part of PodmanBackend (its engine is the adapter)."""

    engine: PodmanEngine

    def firewall_unavailable(self) -> str | None:
        return self.engine.firewall_unavailable()

    def enforced_taskspaces(self) -> set[str]:
        """The taskspaces whose rules are in place now (one read of the firewall)."""
        return self.engine.firewall_taskspaces()

    def _plan(self, taskspace: str, level: str, network: NetworkInfo, allow: tuple[AllowRule, ...]) -> FirewallPlan:
        allowed = self.engine.resolve_allowed(allow) if level == "restricted" else ()
        try:
            return firewall_plan(taskspace, level, network.interface, allowed)
        except ValueError as exc:
            raise SymposiumError(str(exc), hint=f"symposium-tui security {taskspace} {level}  (makes its "
                                 "network again)") from None

    def make_network(self, taskspace: str, level: str, allow: tuple[AllowRule, ...], undo: Undo,
                     labels: dict[str, str] | None = None) -> str | None:
        """The network the pod joins (None: the default), with its rules in place."""
        if level == "open":
            return None
        if why := self.engine.firewall_unavailable():
            raise SymposiumError(why, hint="or use --security open")
        name = network_name(taskspace)
        existing = self.engine.network(name)
        if existing is not None:
            if not L.is_ours(existing.labels) or existing.labels.get(L.TASKSPACE) != taskspace:
                raise SymposiumError(f"a network named {name} exists but was not made by symposium-tui "
                                     "for this taskspace; it is left alone", hint="choose another id")
            self.engine.remove_network(name)  # a leftover of ours, with no pod on it
        network = self.engine.create_network(name, L.ours("network", taskspace) | (labels or {}))
        undo(f"network {name}", lambda: self.engine.remove_network(name))
        plan = self._plan(taskspace, level, network, allow)
        undo(f"firewall rules of {taskspace}", lambda: self.engine.remove_firewall(taskspace))
        self.engine.apply_firewall(plan)
        return name

    def keep_network(self, taskspace: str, level: str, allow: tuple[AllowRule, ...]) -> bool:
        """Before a start: put the rules back if something removed them. True if it had to."""
        if level == "open":
            return False
        network = self.engine.network(network_name(taskspace))
        if network is None:
            raise SymposiumError(f"the network of {taskspace!r} ({network_name(taskspace)}) is gone; its "
                                 f"{level} level cannot be kept",
                                 hint=f"symposium-tui security {taskspace} {level}  (recreates its pod)")
        if why := self.engine.firewall_unavailable():
            raise SymposiumError(f"{taskspace!r} is {level}: {why}")
        plan = self._plan(taskspace, level, network, allow)
        if self.engine.firewall_present(plan):
            return False
        self.engine.apply_firewall(plan)
        return True

    def refuse_inside(self, taskspace: str, level: str, allow: tuple[AllowRule, ...]) -> None:
        """After the pod (re)started: its own namespace refuses at once what the host's rules
        drop (a new namespace each start)."""
        if level == "open" or self.engine.firewall_unavailable():
            return
        network = self.engine.network(network_name(taskspace))
        if network is not None:
            self.engine.refuse_inside(pod_name(taskspace), self._plan(taskspace, level, network, allow))

    def remove_network(self, taskspace: str, networks: tuple[NetworkInfo, ...]) -> list[str]:
        """After the pod is gone: its rules, then its networks. Returns the networks removed."""
        self.engine.remove_firewall(taskspace)
        removed = []
        for network in networks:
            if L.is_ours(network.labels) and network.labels.get(L.TASKSPACE) == taskspace:
                self.engine.remove_network(network.name)
                removed.append(network.name)
        return removed
