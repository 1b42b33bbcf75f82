"""Messages named for what happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from symposium_tui.core.restarts import RestartRecord
from symposium_tui.core.services.poller import Snapshot
from symposium_tui.core.stats import StatsSample


class EngineConnected(Message):
    def __init__(self, description: str, host: str = "local", session: object = None) -> None:
        super().__init__()
        self.description = description
        self.host = host
        self.session = session  # the host's HostSession, handed to the UI thread


class EngineUnreachable(Message):
    def __init__(self, reason: str, hint: str | None = None, host: str = "local") -> None:
        super().__init__()
        self.reason = reason
        self.hint = hint
        self.host = host


class SnapshotTaken(Message):
    """A poller tick of one host finished. Only the newest of a host matters: its older ones in
    the queue are replaced (another host's never are; each carries the whole stats history and
    restart log), unless they carry notices, which are shown once and would otherwise be lost."""

    def __init__(self, snapshot: Snapshot, host: str = "local",
                 stats: Mapping[str, Sequence[StatsSample]] | None = None,
                 restarts: Mapping[str, Sequence[RestartRecord]] | None = None,
                 cells: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.host = host
        self.stats = stats or {}  # container name -> its samples, oldest first
        self.restarts = restarts or {}  # taskspace -> the auto-restarts this process made of it
        self.cells = cells or {}  # taskspace -> its row's cells (ui.columns.row_cells), but CHANGES

    @classmethod
    def read_from(cls, poller: Any, snapshot: Snapshot, host: str) -> SnapshotTaken:
        """Called on the poller's thread just after its tick: copies of what screens show beside
        the snapshot, so that they never read the poller's history or log themselves."""
        stats = {c.name: poller.history.samples(c.name)
                 for t in snapshot.taskspaces for c in t.containers.values()}
        restarts = {t.id: records for t in snapshot.taskspaces if (records := poller.restarts_of(t.id))}
        from symposium_tui.ui.columns import row_cells

        cells = {t.id: row_cells(t, host, stats) for t in snapshot.taskspaces}
        return cls(snapshot, host, stats, restarts, cells)

    def can_replace(self, message: Message) -> bool:
        # Textual asks the message in hand whether the next one queued may supersede it.
        return isinstance(message, SnapshotTaken) and message.host == self.host and not self.snapshot.notices \
            and not self.snapshot.signals


class OperationFinished(Message):
    def __init__(self, text: str, *, failed: bool = False, host: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.failed = failed
        self.host = host  # whose poller to wake; None: every host's


class ChangesSummarized(Message):
    """The CHANGES cell of one taskspace was read (text: its cell), between began and ended."""

    def __init__(self, host: str, taskspace: str, text: str, began: float, ended: float) -> None:
        super().__init__()
        self.host = host
        self.taskspace = taskspace
        self.text = text
        self.began = began
        self.ended = ended


@dataclass(frozen=True)
class ShownNotification:
    time: float  # Unix time
    severity: str
    title: str
    message: str


class Notified(Message):
    """A notification was shown; its toast goes after a few seconds, the history keeps it."""

    def __init__(self, notification: ShownNotification) -> None:
        super().__init__()
        self.notification = notification
