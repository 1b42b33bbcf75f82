"""A taskspace's network and firewall rules for its security level (see core.security).

open: podman's default network, no rules. isolated and restricted: a bridge network of the
taskspace's own (`taskspace-ID-net`) and its rules, made before its pod, checked (and put back if
something removed them) before every start, removed with it.
"""

from __future__ import annotations

from collections.abc import Callable

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name, volume_name
from symposium_tui.core.models import NetworkInfo
from symposium_tui.core.security import FirewallPlan, firewall_plan
from symposium_tui.core.services.context import LifecycleContext

Undo = Callable[[str, Callable[[], None]], None]


def network_name(taskspace: str) -> str:
    return volume_name(taskspace, "net")


class TaskspaceNetwork:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.engine = ctx.engine

    def plan(self, taskspace: str, level: str, network: NetworkInfo) -> FirewallPlan:
        allowed = ()
        if level == "restricted":
            allowed = self.engine.resolve_allowed(self.ctx.settings.restricted_allow)
        try:
            return firewall_plan(taskspace, level, network.interface, allowed)
        except ValueError as exc:
            raise SymposiumError(str(exc), hint=f"symposium-tui security {taskspace} {level}  (makes its "
                                 "network again)") from None

    def set_up(self, taskspace: str, level: str, undo: Undo, mark: dict[str, str] | None = None) -> str | None:
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
        network = self.engine.create_network(name, L.ours("network", taskspace) | (mark or {}))
        undo(f"network {name}", lambda: self.engine.remove_network(name))
        plan = self.plan(taskspace, level, network)
        undo(f"firewall rules of {taskspace}", lambda: self.tear_down_rules(taskspace))
        self.engine.apply_firewall(plan)
        return name

    def ensure(self, taskspace: str, level: str) -> bool:
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
        plan = self.plan(taskspace, level, network)
        if self.engine.firewall_present(plan):
            return False
        self.engine.apply_firewall(plan)
        return True

    def refuse_inside(self, taskspace: str, level: str) -> None:
        """After the pod (re)started: its own namespace refuses at once what the host's rules
        drop. A courtesy (the host's rules enforce the level): a failure is a notice."""
        if level == "open" or self.engine.firewall_unavailable():
            return
        try:
            network = self.engine.network(network_name(taskspace))
            if network is not None:
                self.engine.refuse_inside(pod_name(taskspace), self.plan(taskspace, level, network))
        except SymposiumError as exc:
            self.ctx.note(f"{taskspace}: connections its {level} level blocks will time out instead of being "
                          f"refused at once: {exc.message}")

    def tear_down_rules(self, taskspace: str) -> None:
        self.engine.remove_firewall(taskspace)

    def tear_down(self, taskspace: str, networks: tuple[NetworkInfo, ...]) -> list[str]:
        """After the pod is gone: its rules, then its networks. Returns the networks removed."""
        self.tear_down_rules(taskspace)
        removed = []
        for network in networks:
            if L.is_ours(network.labels) and network.labels.get(L.TASKSPACE) == taskspace:
                self.engine.remove_network(network.name)
                removed.append(network.name)
        return removed
