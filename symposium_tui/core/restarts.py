"""Auto-restart with exponential backoff and a cap on attempts per window, remembered on disk.

A one-shot `health --repair` from cron and the long-running monitor share the same memory of
attempts, so neither can restart a crash-looping container more often than the policy allows.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from symposium_tui.core.fsutil import atomic_write, locked


@dataclass(frozen=True)
class RestartPolicy:
    base_delay: float = 2.0  # seconds before the first restart
    factor: float = 2.0
    max_delay: float = 120.0
    max_attempts: int = 5  # per window
    window: float = 600.0  # seconds

    def delay(self, attempts_so_far: int) -> float:
        return min(self.base_delay * self.factor ** attempts_so_far, self.max_delay)


@dataclass(frozen=True)
class RestartRecord:
    time: float
    taskspace: str
    container: str
    reason: str
    result: str  # "restarted", "failed: ...", "gave up: ..."
    by: str = field(default_factory=lambda: f"pid {os.getpid()}")  # which process did it

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def log_line(self) -> dict[str, object]:
        """Its line in restarts.log: the same fields, the time in ISO 8601 (UTC)."""
        return self.as_dict() | {"time": datetime.fromtimestamp(self.time, timezone.utc).isoformat(timespec="seconds")}


@dataclass(frozen=True)
class Decision:
    action: str  # "restart", "wait", "give-up"
    when: float = 0.0
    reason: str = ""


class RestartBook:
    """Attempts per container within the window, persisted under a lock."""

    def __init__(self, path: Path, policy: RestartPolicy) -> None:
        self.path = path
        self.policy = policy

    def _read(self) -> dict[str, list[float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: [float(t) for t in v] for k, v in data.items() if isinstance(v, list)}

    def attempts(self, container: str, now: float) -> list[float]:
        return [t for t in self._read().get(container, []) if now - t < self.policy.window]

    def decide(self, container: str, died_at: float, now: float) -> Decision:
        attempts = self.attempts(container, now)
        if len(attempts) >= self.policy.max_attempts:
            minutes = self.policy.window / 60
            return Decision("give-up", reason=f"auto-restart gave up after {len(attempts)} restarts "
                                              f"in {minutes:g} minutes")
        last = max([died_at, *attempts])
        when = last + self.policy.delay(len(attempts))
        return Decision("restart", when) if now >= when else Decision("wait", when)

    def record(self, container: str, now: float) -> None:
        with locked(self.path.with_name(self.path.name + ".lock")):
            data = self._read()
            data[container] = [t for t in data.get(container, []) if now - t < self.policy.window] + [now]
            atomic_write(self.path, json.dumps(data, sort_keys=True))

    def forget(self, container: str) -> None:
        with locked(self.path.with_name(self.path.name + ".lock")):
            data = self._read()
            if data.pop(container, None) is not None:
                atomic_write(self.path, json.dumps(data, sort_keys=True))


class LogTail:
    """The lines other processes append to one of the product's JSONL logs, read from where it
    was when this began; a bounded read per call, whole lines only, a bad line skipped."""

    MAX_READ = 256 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.offset = path.stat().st_size
        except OSError:
            self.offset = 0

    def new(self) -> list[dict[str, object]]:
        try:
            with open(self.path, "rb") as log:
                size = os.fstat(log.fileno()).st_size
                if size < self.offset:  # rotated or truncated: start over
                    self.offset = 0
                log.seek(self.offset)
                data = log.read(self.MAX_READ)
        except OSError:
            return []
        whole = data[:data.rfind(b"\n") + 1]
        self.offset += len(whole)
        records = []
        for line in whole.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records
