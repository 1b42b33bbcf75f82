"""`m`: every notification shown since the dashboard opened, newest first: toasts go after a few
seconds, and what they said (a failure's reason) must stay readable."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from symposium_tui.ui.messages import ShownNotification

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "information": "green"}
SEVERITY_WORD = {"error": "error", "warning": "warn", "information": "info"}


def line_for(notification: ShownNotification) -> Text:
    """Text, not markup: messages carry engine answers and taskspace names."""
    when = time.strftime("%H:%M:%S", time.localtime(notification.time))
    text = Text(f"{when} ", style="dim")
    word = SEVERITY_WORD.get(notification.severity, notification.severity)
    text.append(f"{word:<5} ", style=SEVERITY_STYLE.get(notification.severity, ""))
    if notification.title:
        text.append(f"{notification.title}: ", style="bold")
    text.append(notification.message)
    return text


class NotificationsScreen(Screen[None]):
    HELP_TITLE = "Notifications"
    BINDINGS = [Binding("escape,q,m", "app.pop_screen", "Back")]

    def __init__(self, shown: Iterable[ShownNotification]) -> None:
        super().__init__()
        self.shown = list(shown)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="notifications-summary")
        yield VerticalScroll(id="notifications")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "notifications"
        self.query_one("#notifications").mount_all(
            [Static(line_for(n), classes="notification") for n in reversed(self.shown)])
        self._summarize()

    def key_help(self) -> list[tuple[str, str]]:
        return [("↑ / ↓, pgup / pgdn", "scroll"), ("escape / q / m", "back")]

    def add(self, notification: ShownNotification) -> None:
        """A new one while the screen is open: it goes on top."""
        self.shown.append(notification)
        box = self.query_one("#notifications")
        box.mount(Static(line_for(notification), classes="notification"), before=0 if box.children else None)
        self._summarize()

    def messages(self) -> list[str]:
        """What the screen shows, newest first, as plain text (for tests and screen readers)."""
        return [str(s.render()) for s in self.query(".notification").results(Static)]

    def _summarize(self) -> None:
        count = len(self.shown)
        text = (f"{count} notification{'s' if count != 1 else ''} since the dashboard opened, newest first"
                if count else "No notifications yet.")
        self.query_one("#notifications-summary", Static).update(Text(text))
