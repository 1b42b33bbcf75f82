"""Messages named for what happened."""

from __future__ import annotations

from textual.message import Message

from symposium_tui.core.services.poller import Snapshot


class EngineConnected(Message):
    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description


class EngineUnreachable(Message):
    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.hint = hint


class SnapshotTaken(Message):
    """A poller tick finished. Only the newest matters: older ones in the queue are replaced."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotTaken)


class OperationFinished(Message):
    def __init__(self, text: str, *, failed: bool = False) -> None:
        super().__init__()
        self.text = text
        self.failed = failed
