"""A taskspace as core knows it: its record, its parts' roles, the ports of its SSH servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from symposium_tui.core.agent import AgentView
from symposium_tui.core.models import ContainerInfo

DEV_SSH_PORT = 2222
AGENT_SSH_PORT = 2223
CONTAINER_UID = 1000  # `developer` and `agent` in the default images

# Removed with the taskspace, in this order: views before what they are views of.
REMOVED_WITH_TASKSPACE = ("workspace", "build-cache", "project", "project-disk")


@dataclass(frozen=True)
class Taskspace:
    """One taskspace as a unit: what the engine shows, joined with what the registry remembers."""

    id: str
    status: str  # running, stopped, degraded, missing, creating
    project: str = ""
    repo: str = ""
    tier: str = ""
    security: str = ""
    dev_port: int | None = None
    agent_port: int | None = None
    created: datetime | None = None
    last_activity: str | None = None
    drift: str = ""
    reason: str = ""
    start: str = ""  # the commit it started from
    branch: str = ""  # the branch it works on
    project_type: str = ""  # its environment's toolchains (rust, node+python, none)
    containers: dict[str, ContainerInfo] = field(default_factory=dict, hash=False)
    agent: AgentView | None = None  # its agent, when the list read it (ls does)
    stops_at: float | None = None  # when auto_stop stops it, idle (ls; None: never, or not running)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "status": self.status, "project": self.project, "repo": self.repo,
            "tier": self.tier, "security": self.security, "dev_port": self.dev_port,
            "agent_port": self.agent_port,
            "created": self.created.isoformat() if self.created else None,
            "last_activity": self.last_activity, "drift": self.drift or None,
            "reason": self.reason or None, "start": self.start or None, "branch": self.branch or None,
            "project_type": self.project_type or None,
            "containers": {role: c.state.value for role, c in sorted(self.containers.items())},
            "auto_stop_at": datetime.fromtimestamp(self.stops_at, timezone.utc).isoformat(timespec="seconds")
            if self.stops_at is not None else None,
        } | ({"agent": self.agent.as_dict()} if self.agent is not None else {})
