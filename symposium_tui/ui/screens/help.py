"""`?`: the keys of the screen it was opened on, then those that work everywhere; it scrolls
when they are more than the terminal's rows (80×24 over SSH)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from symposium_tui.ui.keys import Section


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("Keys", classes="dialog-title")
            table: DataTable[Text] = DataTable(id="help-keys", cursor_type="none", zebra_stripes=False)
            table.add_column("KEY", key="key")
            table.add_column("ACTION", key="action")
            for index, (title, lines) in enumerate(self.sections):
                if not lines:
                    continue
                if index:
                    table.add_row(Text(""), Text(""))
                table.add_row(Text(""), Text(title, style="bold underline"))
                for keys, description in lines:
                    table.add_row(Text(keys, style="bold"), Text(description))
            yield table
            yield Static("↑ ↓ pgup pgdn scroll · escape closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-keys", DataTable).focus()  # so the arrows scroll it
