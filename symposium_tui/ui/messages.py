"""Messages named for what happened."""

from __future__ import annotations

from textual.message import Message


class EngineConnected(Message):
    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description


class EngineUnreachable(Message):
    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.hint = hint
