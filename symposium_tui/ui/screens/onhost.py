"""Screens about one engine host: the host in focus when the screen opened stays theirs, whatever
the list shows meanwhile."""

from __future__ import annotations

from typing import Any


class OnHost:
    """Mixed into a Screen: `services` and `snapshot` of the screen's own host."""

    engine_host: str | None = None

    def bind_host(self, host: str | None = None) -> None:
        self.engine_host = host or self.app.focus_host()  # type: ignore[attr-defined]

    @property
    def services(self) -> Any:
        return self.app.services_for(self.engine_host)  # type: ignore[attr-defined]

    @property
    def snapshot(self) -> Any:
        return self.app.snapshot_for(self.engine_host)  # type: ignore[attr-defined]

    @property
    def host_state(self) -> Any:
        """The host as the UI thread last heard of it (HostState): snapshot, stats, restarts."""
        return self.app.hosts.get(self.engine_host)  # type: ignore[attr-defined]
