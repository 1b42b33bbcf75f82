"""What the poller repairs, each under the restart backoff and cap (RestartBook): dead
containers, a running pod whose SSH port forward the engine lost, missing firewall rules; and
what a restart makes podman forget (the containers' limits, the pod's quick refusals)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import pod_name
from symposium_tui.core.models import EngineEvent
from symposium_tui.core.restarts import RestartBook, RestartRecord
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import TaskspaceGroup
from symposium_tui.core.services.network import TaskspaceNetwork
from symposium_tui.core.backend import TaskspaceBackend
from symposium_tui.core.services.resources import Resources
from symposium_tui.core.services.measure import SSH_PORTS

FORWARD_LOOK_EVERY = 5.0  # seconds between looks at one taskspace's silent SSH port


class Repairs:
    """The poller's repairs (a part of Poller: its state lives there)."""

    ctx: LifecycleContext
    backend: TaskspaceBackend
    book: RestartBook
    restart_log: dict[str, deque[RestartRecord]]
    _log_lock: threading.Lock
    _gave_up: dict[str, str]
    _dead_since: dict[str, float]
    _forward_look: dict[str, float]
    _unenforced: dict[str, str]
    _restart_failed: dict[str, str]
    _started: list[EngineEvent]
    _levels: dict[str, str]
    _next_due: float | None
    _is_busy: Callable[[str], bool]

    def _repair(self, groups: dict[str, TaskspaceGroup], registry: dict, now: float) -> list[RestartRecord]:
        records = []
        self._next_due = None
        for taskspace, group in groups.items():
            entry = registry.get(taskspace, {})
            if group.pod is None or entry.get("stopped_by_user") or \
                    self._is_busy(taskspace):
                continue
            for role, ctr in sorted(group.members.items()):
                if ctr.running:
                    self._dead_since.pop(ctr.name, None)
                    self._gave_up.pop(ctr.name, None)
                    continue
                if ctr.state.value not in ("exited", "stopped", "dead", "created"):
                    continue  # stopping, removing, paused: not ours to fight
                died = self._dead_since.setdefault(
                    ctr.name, ctr.finished.timestamp() if ctr.finished else now)
                decision = self.book.decide(ctr.name, died, now)
                code = f" with exit code {ctr.exit_code}" if ctr.exit_code is not None else ""
                reason = f"{role} container {ctr.state.value}{code}"
                if decision.action == "give-up":
                    if ctr.name not in self._gave_up:
                        self._gave_up[ctr.name] = decision.reason
                        records.append(self._log(RestartRecord(now, taskspace, ctr.name, reason,
                                                               "gave up: " + decision.reason)))
                    continue
                if decision.action == "wait":
                    self._next_due = min(self._next_due or decision.when, decision.when)
                    continue
                self.book.record(ctr.name, now)
                try:
                    self._make_room(taskspace)
                    self.backend.restart_part(taskspace, ctr.name)
                    result = "restarted"
                    self._restart_failed.pop(ctr.name, None)
                    self._put_limits_back(taskspace, [ctr.name])
                except SymposiumError as exc:
                    result = f"failed: {exc.message}"
                    self._restart_failed[ctr.name] = exc.message
                self._dead_since.pop(ctr.name, None)
                records.append(self._log(RestartRecord(now, taskspace, ctr.name, reason, result)))
        return records

    def restarts_of(self, taskspace: str) -> tuple[RestartRecord, ...]:
        """The last restarts of a taskspace, a copy for another thread (a screen) to read."""
        with self._log_lock:
            return tuple(self.restart_log.get(taskspace, ()))

    def _log(self, record: RestartRecord) -> RestartRecord:
        with self._log_lock:
            self.restart_log[record.taskspace].append(record)
        self.ctx.log("restarts.log", record.log_line())
        return record

    def _repair_forwards(self, groups: dict[str, TaskspaceGroup], probes: dict[tuple[str, str], bool],
                         registry: dict, now: float) -> list[RestartRecord]:
        """A running container whose published SSH port is silent while its sshd listens inside:
        the engine lost the port forward. Restarting the pod makes it again, under the same
        backoff and cap as container restarts (counted for the pod). Looked at every
        FORWARD_LOOK_EVERY seconds at most, since looking runs a command in the container."""
        records = []
        for taskspace, group in sorted(groups.items()):
            silent = [(role, ctr) for role, ctr in sorted(group.members.items())
                      if ctr.running and not probes.get((taskspace, role), True)]
            if not silent:
                self._forward_look.pop(taskspace, None)
                continue
            if group.pod is None or registry.get(taskspace, {}).get("stopped_by_user") or \
                    now < self._forward_look.get(taskspace, 0.0) or \
                    self._is_busy(taskspace):
                continue
            self._forward_look[taskspace] = now + FORWARD_LOOK_EVERY
            role, ctr = silent[0]
            port = group.ports.get(SSH_PORTS[role])
            try:
                why = self.backend.port_forward_lost(ctr.name, port) if port else None
            except SymposiumError:
                why = None  # gone meanwhile: the next tick sees it
            if why is None:
                continue
            pod = pod_name(taskspace)
            key = f"{pod} port forwards"
            decision = self.book.decide(key, now, now)
            if decision.action == "give-up":
                if key not in self._gave_up:
                    self._gave_up[key] = decision.reason
                    records.append(self._log(RestartRecord(now, taskspace, pod, why, "gave up: " + decision.reason)))
                continue
            self._gave_up.pop(key, None)
            self.book.record(key, now)
            try:
                self._make_room(taskspace)
                self.backend.restart_part(taskspace)
                result = "restarted"
                self._put_limits_back(taskspace)
            except SymposiumError as exc:
                result = f"failed: {exc.message}"
            records.append(self._log(RestartRecord(now, taskspace, pod, why, result)))
        return records

    def _repair_firewall(self, groups: dict[str, TaskspaceGroup], now: float) -> list[RestartRecord]:
        records = []
        for taskspace, why in sorted(self._unenforced.items()):
            if self._is_busy(taskspace):
                continue  # being created, changed or removed right now
            level = groups[taskspace].pod.labels.get(L.SECURITY, "open")
            try:
                TaskspaceNetwork(self.ctx).ensure(taskspace, level)
                TaskspaceNetwork(self.ctx).refuse_inside(taskspace, level)
                result = "rules put back"
                del self._unenforced[taskspace]
            except SymposiumError as exc:
                result = f"failed: {exc.message}"
            records.append(self._log(RestartRecord(now, taskspace, f"{pod_name(taskspace)} firewall", why,
                                                   result)))
        return records

    def _make_room(self, taskspace: str) -> None:
        try:
            Resources(self.ctx, via="poller").make_room(taskspace)
        except SymposiumError:
            pass  # the restart says what is wrong

    def _put_limits_back(self, taskspace: str, containers: list[str] | None = None) -> None:
        """After a restart (ours, or one the engine's start events tell of; for a one-off `health
        --repair` no event may come): the limits, and the fast refusals of the pod's network
        namespace, which a restarted pod makes anew."""
        try:
            Resources(self.ctx, via="poller").reapply(taskspace, containers)
        except SymposiumError:
            pass  # shown by the next adjust or health check; never stops the poller
        TaskspaceNetwork(self.ctx).refuse_inside(taskspace, self._levels.get(taskspace, "open"))

    def _reapply_limits(self) -> None:
        """podman forgets container limit updates on restart; put the recorded ones back."""
        started, self._started = self._started, []
        for taskspace in sorted({e.taskspace for e in started}):
            self._put_limits_back(taskspace, [e.container_name for e in started if e.taskspace == taskspace])
