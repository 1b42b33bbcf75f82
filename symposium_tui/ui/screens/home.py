"""The taskspace list: the home screen. Rows arrive with the lifecycle issue; the shell is here."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

COLUMNS = ("ID", "PROJECT", "STATUS", "TIER", "DEV", "AGENT", "CPU", "MEMORY", "ACTIVITY")


class HomeScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting to podman…", id="engine-status")
        table: DataTable[str] = DataTable(id="taskspaces", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static("No taskspaces yet.", id="empty-hint")
        yield Footer()

    def show_engine(self, text: str, *, ok: bool) -> None:
        status = self.query_one("#engine-status", Static)
        status.update(text)
        status.set_class(not ok, "-error")
