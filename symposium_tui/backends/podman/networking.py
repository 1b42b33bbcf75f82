"""Networks of taskspaces, and the host firewall rules that go with them (specs.PodmanEngine)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from symposium_tui.core.errors import EngineError, EngineNotFound
from symposium_tui.core.models import NetworkInfo
from symposium_tui.core.security import AllowRule, FirewallPlan
import symposium_tui.backends.podman.firewall as firewall
from symposium_tui.backends.podman.normalize import (
    container_pid,
    filter_params,
    infra_container_id,
    listed,
    matching,
    network_from,
    require,
)


class NetworkingMixin:
    client: Any
    local: bool
    _call: Callable[..., Any]
    _get_json: Callable[..., Any]

    def networks(self, selector: dict[str, str] | None = None) -> list[NetworkInfo]:
        return matching(listed(network_from, self._get_json("list networks", "/networks/json",
                                                            **filter_params(selector))), selector)

    def network(self, name: str) -> NetworkInfo | None:
        try:
            return network_from(self._get_json(f"inspect network {name}", f"/networks/{name}/json"))
        except EngineNotFound:
            return None

    def create_network(self, name: str, labels: dict[str, str]) -> NetworkInfo:
        """A bridge of the taskspace's own, with a name no other engine on this host uses."""
        def call() -> NetworkInfo:
            body = {"name": name, "driver": "bridge", "labels": labels, "dns_enabled": False,
                    "internal": False, "network_interface": f"sym{secrets.token_hex(4)}"}
            response = self.client.api.post("/networks/create", data=json.dumps(body),
                                             headers={"Content-Type": "application/json"})
            response.raise_for_status()
            return require(network_from(response.json()), f"create network {name}")
        return self._call(f"create network {name}", call)

    def remove_network(self, name: str) -> None:
        def call() -> None:
            response = self.client.api.delete(f"/networks/{name}", params={"force": True})
            if response.status_code != 404:
                response.raise_for_status()
        self._call(f"remove network {name}", call)

    # -- the host firewall (only for an engine on this machine) ----------------------------------
    def firewall_unavailable(self) -> str | None:
        if not self.local:
            return "isolated and restricted taskspaces need the engine on this machine (its firewall)"
        return firewall.unavailable()

    def resolve_allowed(self, rules: tuple[AllowRule, ...]) -> tuple[tuple[str, int | None, str], ...]:
        return firewall.resolve(rules)

    def apply_firewall(self, plan: FirewallPlan) -> None:
        firewall.Firewall().apply(plan)

    def refuse_inside(self, pod: str, plan: FirewallPlan) -> None:
        """Fast refusals in the pod's own network namespace (see FirewallPlan.inside_script)."""
        if not self.local:
            return
        infra = infra_container_id(self._get_json(f"inspect pod {pod}", f"/pods/{pod}/json"))
        pid = container_pid(self._get_json(f"inspect the infra container of {pod}", f"/containers/{infra}/json")
                            ) if infra else None
        if pid is None:
            raise EngineError(f"pod {pod} is not running (no infra process)")
        firewall.Firewall().apply_inside(pid, plan, infra)

    def firewall_present(self, plan: FirewallPlan) -> bool:
        return firewall.Firewall().present(plan)

    def firewall_taskspaces(self) -> set[str]:
        return firewall.Firewall().taskspaces()

    def remove_firewall(self, taskspace: str) -> int:
        return firewall.Firewall().remove(taskspace) if self.local else 0
