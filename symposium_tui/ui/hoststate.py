"""One engine host as the dashboard knows it: its services once connected, its last snapshot,
and the words the status line uses for it."""

from __future__ import annotations

from dataclasses import dataclass

from symposium_tui.core.services.poller import Snapshot
from symposium_tui.session import HostSession


@dataclass
class HostState:
    """One engine host as the dashboard knows it; its worker fills it in."""

    name: str
    services: HostSession | None = None  # set on the UI thread, from EngineConnected
    snapshot: Snapshot | None = None
    text: str = "connecting to podman…"
    connected_text: str = ""
    ok: bool = True
    answered_at: float = 0.0  # monotonic time of its last snapshot

    def slow_for(self, now: float, interval: float) -> float | None:
        """Seconds since the last answer, when that is far longer than a tick takes."""
        if self.services is None or not self.answered_at:
            return None
        waited = now - self.answered_at
        return waited if waited > max(3 * interval, 5.0) else None


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def short_reason(text: str) -> str:
    """The last clause of an unreachable message ("... port 22: Connection refused (retrying)"):
    what fits in a status line beside other hosts; the switcher (H) shows the whole of it."""
    text = text.removesuffix(" (retrying)")
    return text.rsplit(": ", 1)[-1].strip() or text
