"""What every lifecycle use case shares: the engine, settings, registry and the product's files."""

from __future__ import annotations

import json
import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from symposium_tui.core import sshconfig
from symposium_tui.core.config import Settings
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write, is_locked, locked
from symposium_tui.core.backend import RepairReport, TaskspaceBackend
from symposium_tui.core.health import append_jsonl
from symposium_tui.core.hosts import LOCAL
from symposium_tui.core.ids import validate_id
from symposium_tui.core.paths import AppPaths
from symposium_tui.core.policy import Policy, load_policy
from symposium_tui.core.registry import Registry
from symposium_tui.core.restarts import RestartRecord

AGENT_CONFIG_TEMPLATE = """\
# The agent's configuration, mounted read-only at /agent/config.yaml in every taskspace.
# Files in auth/ and context/ beside it are mounted read-only at /agent/auth and /agent/context.
# Facts about the taskspace itself (id, project, ports) are in /agent/taskspace.yaml.
{}
"""


@dataclass
class LifecycleContext:
    backend: TaskspaceBackend
    paths: AppPaths
    settings: Settings
    given_policy: Policy | None = None
    host: str = LOCAL  # the engine host's name (hosts.py): its state is kept apart
    jump: sshconfig.Jump | None = None  # how people reach a remote host's loopback ports

    def __post_init__(self) -> None:
        if self.paths.host != self.host:
            self.paths = self.paths.for_host(self.host)
        self.registry = Registry(self.paths.registry_file, getattr(self.backend, "identity", ""))
        self.notices: list[str] = []  # what went wrong on the side (a log that could not be written)
        self._policy = self.given_policy

    @property
    def policy(self) -> Policy:
        """resource-policies.yaml, read when first needed: only commands that use tiers fail on a
        broken file."""
        if self._policy is None:
            self._policy = load_policy(self.paths.policy_file, self.notices)
        return self._policy

    def note(self, notice: str) -> None:
        if notice not in self.notices:
            self.notices.append(notice)

    def take_notices(self) -> list[str]:
        """What happened on the side since the last call, said once: the registry's too."""
        notices, self.notices = self.notices + self.registry.take_notices(), []
        return notices

    def log(self, name: str, record: dict[str, Any]) -> None:
        """A line in one of the product's logs (log dir); if the disk refuses it, a notice says so
        (once) and the operation goes on."""
        try:
            append_jsonl(self.paths.log_dir / name, record)
        except SymposiumError as exc:
            self.note(exc.message)

    def repair_report(self, taskspace: str) -> RepairReport:
        """How the backend tells of a repair it made on its own (a pod restarted while waiting for
        SSH): the same restarts.log line the poller writes, and the notice it gives."""
        def report(part: str, why: str, result: str, notice: str = "") -> None:
            self.log("restarts.log", RestartRecord(time.time(), taskspace, part, why, result).log_line())
            if notice:
                self.note(notice)
        return report

    def lock_path(self, name: str) -> Path:
        """The lock file of a taskspace (or of a repository base, by its volume name)."""
        return self.paths.state_dir / "locks" / f"{name}.lock"

    def base_lock(self, base: str) -> AbstractContextManager[None]:
        """Held while a repository's shared base is made or read for a create (waits its turn)."""
        return locked(self.lock_path(base))

    @property
    def auto_stop_lock(self) -> Path:
        """Held (shared) by each poller that stops idle taskspaces: ls tells whether one runs."""
        return self.paths.state_dir / "auto-stop.lock"

    def is_busy(self, taskspace: str) -> bool:
        """Being created, changed or removed right now (its lock is held)."""
        return is_locked(self.lock_path(taskspace))

    def taskspace_lock(self, taskspace: str) -> AbstractContextManager[None]:
        """Held while a taskspace is created or removed; a second one fails at once."""
        validate_id(taskspace)  # it names a file: never a path of someone's choosing
        return locked(self.lock_path(taskspace), blocking=False,
                      busy_message=f"taskspace {taskspace!r} is busy: another command is creating, removing, "
                                   "copying into or changing it (try again when it ends)")

    def taskspace_dir(self, taskspace: str) -> Path:
        return self.paths.state_dir / "taskspaces" / validate_id(taskspace)

    def remove_taskspace_files(self, taskspace: str) -> None:
        shutil.rmtree(self.taskspace_dir(taskspace), ignore_errors=True)

    def agent_mounts(self) -> tuple[Path, Path, Path]:
        """The person's agent config.yaml, auth and context dirs (mounted read-only), made if missing."""
        config = self.paths.config_dir / "agent" / "config.yaml"
        auth, context = self.paths.config_dir / "agent" / "auth", self.paths.config_dir / "agent" / "context"
        for directory in (auth, context):
            # Readable by the container's `agent` user (uid 1000); the files' own modes decide the rest.
            directory.mkdir(parents=True, exist_ok=True, mode=0o755)
        if not config.exists():
            atomic_write(config, AGENT_CONFIG_TEMPLATE, mode=0o644)
        return config, auth, context

    def write_ssh_config(self, entries: dict[str, dict[str, Any]]) -> None:
        include = f"{self.paths.ssh_config_dir}/*.conf"
        sshconfig.ensure_known_hosts(self.paths.known_hosts)
        if self.host != LOCAL:
            sshconfig.ensure_main(self.paths.main_ssh_config, include)
        sshconfig.write(self.paths.ssh_config, entries, self.paths.ssh_key, self.paths.known_hosts,
                        host=self.host, jump=self.jump, include=include if self.host == LOCAL else None)

    def ssh_alias(self, taskspace: str, role: str) -> str:
        return sshconfig.host_alias(taskspace, role, self.host)

    def mark_removed(self, taskspace: str) -> None:
        """Remember when a taskspace went: its kept agent state is retained from then on."""
        path = self.paths.state_dir / "removed.json"
        with locked(path.with_name(path.name + ".lock")):
            removed = self.removed_at()
            removed[taskspace] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            atomic_write(path, json.dumps(removed, indent=2, sort_keys=True))

    def removed_at(self) -> dict[str, str]:
        try:
            data = json.loads((self.paths.state_dir / "removed.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def forget_host_keys(self, taskspace: str) -> None:
        sshconfig.forget_host_keys(self.paths.known_hosts, taskspace, self.host)
