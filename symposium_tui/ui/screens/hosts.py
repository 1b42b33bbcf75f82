"""The host switcher: every engine host with its state; choose one, or all hosts at once."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

ALL_HOSTS = "*"


class HostsScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, hosts: dict[str, str], current: str | None) -> None:
        super().__init__()
        self.hosts = hosts  # name -> what it is doing (taskspaces, engine, or why it is unreachable)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="hosts-dialog", classes="dialog"):
            yield Static("Show which host?", classes="dialog-title")
            options = [Option(f"all hosts ({len(self.hosts)}) — one list with a HOST column", id=ALL_HOSTS)]
            # Text: a host's state carries the engine's or ssh's own words.
            options += [Option(Text(f"{name} — {state}"), id=name) for name, state in self.hosts.items()]
            yield OptionList(*options, id="host-list")
            yield Static("enter chooses · escape keeps the current view", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one("#host-list", OptionList)
        options.highlighted = options.get_option_index(self.current or ALL_HOSTS)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
