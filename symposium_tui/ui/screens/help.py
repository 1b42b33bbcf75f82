"""`?`: every key the dashboard knows, from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("Keys", classes="dialog-title")
            table: DataTable[str] = DataTable(show_cursor=False)
            table.add_columns("KEY", "ACTION")
            for key, description in self.keys:
                table.add_row(key, description)
            yield table
            yield Static("escape closes", classes="dialog-hint")
