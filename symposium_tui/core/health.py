"""Health of a taskspace, from facts the poller gathered. Pure rules, no engine calls."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import ContainerInfo


class HealthState(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    CREATING = "creating"
    STOPPED = "stopped"  # stopped on purpose by the person: not a fault, never auto-restarted

    @property
    def ok(self) -> bool:
        return self in (HealthState.HEALTHY, HealthState.STOPPED)


@dataclass(frozen=True)
class Health:
    state: HealthState
    reason: str = ""

    def __str__(self) -> str:
        return self.state.value + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class HealthFacts:
    pod_exists: bool
    containers: dict[str, ContainerInfo]
    ssh_ok: dict[str, bool]  # role -> the SSH port answered on 127.0.0.1 (checked only when running)
    creating: bool = False
    stopped_by_user: bool = False
    stopped_why: str = ""  # what stopped it, when not the person (auto_stop: "idle for 2h …")
    gave_up: dict[str, str] | None = None  # role -> why auto-restart stopped trying
    storage_over: str | None = None  # e.g. "storage 12.0Gi over its 10.0Gi limit"
    unenforced: str | None = None  # e.g. "the firewall rules of its isolated level are missing"
    restart_failed: dict[str, str] | None = None  # role -> why the last auto-restart failed


def evaluate(facts: HealthFacts) -> Health:
    if facts.creating:
        return Health(HealthState.CREATING, "being created")
    if not facts.pod_exists:
        return Health(HealthState.DOWN, "the pod is gone")
    running = {role for role, c in facts.containers.items() if c.running}
    if not running and facts.stopped_by_user:
        return Health(HealthState.STOPPED, facts.stopped_why or "stopped by the user")
    problems = []
    for role in ("agent", "dev"):
        container = facts.containers.get(role)
        if container is None:
            problems.append(f"{role} container missing")
        elif not container.running:
            code = f" (exit code {container.exit_code})" if container.exit_code not in (None, 0) else ""
            problems.append(f"{role} {container.state.value}{code}")
        elif not facts.ssh_ok.get(role, False):
            problems.append(f"{role} SSH not answering on 127.0.0.1")
    for role, why in (facts.gave_up or {}).items():
        problems.append(f"{role}: {why}")
    for role, why in (facts.restart_failed or {}).items():
        if role not in (facts.gave_up or {}):
            problems.append(f"{role} auto-restart failed: {why}")
    if facts.storage_over:
        problems.append(facts.storage_over)
    if facts.unenforced and running:
        problems.append(facts.unenforced)
    if not problems:
        return Health(HealthState.HEALTHY)
    state = HealthState.DOWN if not running else HealthState.DEGRADED
    return Health(state, "; ".join(problems))


@dataclass(frozen=True)
class Transition:
    time: datetime
    taskspace: str
    before: Health | None
    after: Health

    def as_dict(self) -> dict[str, str | None]:
        return {"time": self.time.isoformat(timespec="seconds"), "taskspace": self.taskspace,
                "from": self.before.state.value if self.before else None,
                "to": self.after.state.value, "reason": self.after.reason}


def append_jsonl(path: Path, record: dict[str, object]) -> None:
    """One structured line per record, whole or not at all: a write the disk cuts short is taken
    back, so the log never ends in half a line. Raises SymposiumError saying why it could not."""
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SymposiumError(f"cannot write the log {path}: {exc.strerror or exc}") from exc
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
        except OSError as exc:
            written, error = -1, exc
        if written != len(data):
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            why = error.strerror if written < 0 else "the disk took only part of the line"
            raise SymposiumError(f"cannot write the log {path}: {why}")
    finally:
        os.close(fd)
