"""Stand-ins for the core services behind the dashboard, for Pilot tests without an engine.

They answer with fixed data and record what the dashboard asked of them; the behaviour of the
services themselves is tested against the real engine (tests/engine, tests/ui/test_dashboard_engine.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal, UsageError
from symposium_tui.core.models import HostCapacity, VolumeInfo
from symposium_tui.core.policy import builtin_policy
from symposium_tui.core.services.changes import Changes, FetchOutcome
from symposium_tui.core.services.lifecycle import Inventory, UnsavedWork
from symposium_tui.session import HostSession as Services

GiB = 2**30


class FakeHistory:
    def samples(self, name: str) -> list:
        return []


class FakePoller:
    def __init__(self) -> None:
        self.history = FakeHistory()
        self.restart_log: dict = {}
        self.woken = 0

    def restarts_of(self, taskspace: str) -> tuple:
        return tuple(self.restart_log.get(taskspace, ()))

    def wake(self) -> None:
        self.woken += 1

    @contextmanager
    def own_read(self, taskspace: str):
        yield

    def stop(self) -> None:
        pass


class FakeStream:
    """A follow that has nothing more to say."""

    closed = False

    def __iter__(self):
        return iter(())

    def close(self) -> None:
        self.closed = True


class FakeEngine:
    def __init__(self, capacity: HostCapacity | None = None, log_lines: list[str] | None = None) -> None:
        self._capacity = capacity or HostCapacity(8, 16 * GiB, False)
        self.log_lines = log_lines or []
        self.log_calls: list[tuple[str, int]] = []

    def capacity(self) -> HostCapacity:
        return self._capacity

    def logs(self, container: str, tail: int = 200, timestamps: bool = False) -> list[str]:
        self.log_calls.append((container, tail))
        return self.log_lines[-tail:]

    def follow_logs(self, container: str, since: float | None = None, timestamps: bool = False) -> FakeStream:
        return FakeStream()


@dataclass
class FakeSettings:
    security_default: str = "open"


@dataclass
class FakePaths:
    main_ssh_config: Path = Path("/nonexistent/ssh_config")


class FakeRegistry:
    """The registry's entries in memory: update() as the real one (under its lock) does."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {name: {} for name in ("checkout-v2", "fix-login-2", "ledger-sync")}

    def read(self) -> dict[str, dict]:
        return self.entries

    def update(self, change) -> None:  # noqa: ANN001
        change(self.entries)


@dataclass
class FakeCtx:
    backend: FakeEngine = field(default_factory=FakeEngine)
    policy: object = field(default_factory=builtin_policy)
    settings: FakeSettings = field(default_factory=FakeSettings)
    paths: FakePaths = field(default_factory=FakePaths)

    tasks: dict[str, str] = field(default_factory=dict)  # the task each was given at create
    registry: FakeRegistry = field(default_factory=lambda: FakeRegistry())

    def ssh_alias(self, taskspace: str, role: str) -> str:
        return f"{taskspace}-{role}"

    def taskspace_dir(self, taskspace: str) -> Path:
        """What create keeps of a taskspace here: only its task, in these tests."""
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="fake-taskspace-"))
        if taskspace in self.tasks:
            (directory / "task.md").write_text(self.tasks[taskspace], encoding="utf-8")
        return directory


def project_disk(taskspace: str, loop: bool = True) -> VolumeInfo:
    return VolumeInfo(f"taskspace-{taskspace}-project", "/x", {"io.symposium.role": "project"},
                      options={"o": "loop"} if loop else {})


class FakeLifecycle:
    """Answers like Lifecycle; a taskspace listed in `unsaved` holds that work, and remove
    refuses it unless forced, as the real one does."""

    def __init__(self, unsaved: dict[str, UnsavedWork] | None = None) -> None:
        self.unsaved = unsaved or {}
        self.removed: list[tuple[str, bool, bool]] = []
        self.driven: list[tuple[str, str]] = []

    def inventory(self, taskspace: str) -> Inventory:
        roles = ("workspace", "build-cache", "agent-state")
        volumes = tuple(VolumeInfo(f"taskspace-{taskspace}-{r}", "/x", {"io.symposium.role": r}) for r in roles)
        return Inventory(None, (), (project_disk(taskspace), *volumes))

    def unsaved_work(self, taskspace: str, inventory: Inventory) -> UnsavedWork:
        return self.unsaved.get(taskspace, UnsavedWork((), ()))

    def remove(self, taskspace: str, *, purge_state: bool = False, force: bool = False) -> dict[str, list[str]]:
        work = self.unsaved.get(taskspace)
        if work is not None and work.any and not force:
            raise UnsavedWorkRefusal(f"taskspace {taskspace!r} holds work that exists nowhere else: "
                                     f"{work.describe()}; nothing was removed", work=work)
        self.removed.append((taskspace, purge_state, force))
        return {"kept": [] if purge_state else [f"taskspace-{taskspace}-agent-state"]}

    def start(self, taskspace: str) -> None:
        self.driven.append(("start", taskspace))

    def stop(self, taskspace: str) -> None:
        self.driven.append(("stop", taskspace))

    def restart(self, taskspace: str) -> None:
        self.driven.append(("restart", taskspace))


START = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"


def no_changes(taskspace: str) -> Changes:
    return Changes(taskspace, START, f"taskspace/{taskspace}", START, START, f"taskspace/{taskspace}", 0, (), (), ())


class FakeChanges:
    """Answers like TaskspaceChanges from fixed Changes (a taskspace not listed: nothing changed);
    fetch refuses with `refusal` when one is given, else answers `outcome`. Records the reads."""

    def __init__(self, changes: dict[str, Changes] | None = None, repo: str = "/home/dev/web-shop",
                 refusal: SymposiumError | None = None, outcome: FetchOutcome | None = None) -> None:
        self.changes = changes or {}
        self.repo = repo
        self.refusal = refusal
        self.outcome = outcome
        self.reads: list[tuple[str, str]] = []
        self.fetched: list[str] = []

    def _of(self, taskspace: str) -> Changes:
        return self.changes.get(taskspace) or no_changes(taskspace)

    def origin(self, taskspace: str, inventory: Inventory) -> tuple[str, str, str]:
        found = self._of(taskspace)
        return found.start, found.branch, self.repo

    def target(self, taskspace: str, repo: str, into: str | None) -> Path:
        if not repo.startswith("/"):
            raise UsageError(f"taskspace {taskspace!r} was made from {repo}, which is not a repository on this "
                             "machine", hint="give a local clone: --into PATH")
        return Path(repo)

    def read(self, taskspace: str, what: str = "summary", *, inventory: Inventory | None = None) -> Changes:
        self.reads.append((taskspace, what))
        return self._of(taskspace)

    def fetch(self, taskspace: str, into: str | None = None, force: bool = False) -> FetchOutcome:
        self.fetched.append(taskspace)
        if self.refusal is not None:
            raise self.refusal
        found = self._of(taskspace)
        return self.outcome or FetchOutcome(taskspace, self.repo, found.branch, found.tip, None,
                                            found.commit_count, 0, found.uncommitted)


def connect_fake(app, *, lifecycle: FakeLifecycle | None = None, ctx: FakeCtx | None = None,
                 changes: FakeChanges | None = None, host: str = "local") -> Services:
    """Give the app's host services that answer from fixed data."""
    ctx = ctx or FakeCtx()

    class Connection:
        backend = ctx.backend

        def close(self) -> None:
            pass
    services = Services(Connection(), ctx, lifecycle or FakeLifecycle(), FakePoller(), changes or FakeChanges())
    app.hosts[host].services = services
    return services
