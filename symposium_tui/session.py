"""One engine host, connected: what a command of the CLI and the dashboard drive there. The one
place where an engine connection and the core's services are put together (both faces of the
product use it: cli/common.Services for a command, the dashboard's host threads for a host)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from symposium_tui.core.config import Settings
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.lifecycle import Lifecycle

if TYPE_CHECKING:  # imported when used: a command that lists taskspaces needs neither
    from symposium_tui.core.services.changes import TaskspaceChanges
    from symposium_tui.core.services.poller import Poller, PollerSettings


def load_settings() -> Settings:
    from symposium_tui.core.config import load_settings as load
    from symposium_tui.core.paths import app_paths

    return load(app_paths().config_file)


def context_for(connection: Any, settings: Settings) -> LifecycleContext:
    """The lifecycle context of a connected host: its own registry, SSH entries and locks."""
    from symposium_tui.core.paths import app_paths

    return LifecycleContext(connection.backend, app_paths(), settings, host=connection.host,
                            jump=connection.jump())


@dataclass
class HostSession:
    connection: Any  # a backend's connection (backends.connect)
    ctx: LifecycleContext
    lifecycle: Lifecycle
    poller: Poller | None = None
    changes: TaskspaceChanges | None = None  # what taskspaces changed (diff), and fetch; made by on()

    @classmethod
    def on(cls, connection: Any, settings: Settings | None = None,
           poller: PollerSettings | None = None) -> HostSession:
        from symposium_tui.core.services.changes import TaskspaceChanges

        ctx = context_for(connection, settings or load_settings())
        if poller is None:
            return cls(connection, ctx, Lifecycle(ctx), None, TaskspaceChanges(ctx))
        from symposium_tui.core.services.poller import Poller

        return cls(connection, ctx, Lifecycle(ctx), Poller(ctx, poller), TaskspaceChanges(ctx))

    def recover(self) -> list[str]:
        """Finish off creates that were killed half-way (their process is gone); what was done.
        Without a journal entry (nearly always) the recovery's own modules are not even loaded."""
        from symposium_tui.core.services.journal import Journal

        if not Journal(self.ctx).pending():
            return []
        from symposium_tui.core.services.recovery import Recovery

        return [recovered.describe() for recovered in Recovery(self.ctx).run()]

    def own_read(self, taskspace: str) -> AbstractContextManager[None]:
        """Around a read of ours in a taskspace (git, for the dashboard): its poller does not take
        it for the taskspace's activity."""
        return self.poller.own_read(taskspace) if self.poller is not None else nullcontext()

    def close(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        self.connection.close()
