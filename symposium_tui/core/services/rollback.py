"""What a failed operation made is taken away again, newest first."""

from __future__ import annotations

from collections.abc import Callable


class Rollback:
    """Undo actions, run newest first; failures while undoing are collected, not raised."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self.problems: list[str] = []

    def add(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))

    def run(self) -> None:
        for what, undo in reversed(self._undo):
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - keep undoing; report every leftover
                self.problems.append(f"{what}: {exc}")
        self._undo.clear()
