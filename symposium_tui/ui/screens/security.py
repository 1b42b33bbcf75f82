"""Choose a taskspace's network security level; the app confirms, then makes its pod again."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Select, Static

from symposium_tui.core.security import LEVELS

MEANING = {
    "isolated": "its own network: no connections out (internet, host, other taskspaces) and none in "
                "but its published 127.0.0.1 SSH ports",
    "restricted": "its own network: out only to security.restricted_allow in config.yaml; nothing in "
                  "but its SSH ports",
    "open": "podman's default network",
}


def consequence(taskspace: str, old: str, new: str) -> str:
    return (f"Change {taskspace} from {old} to {new}?\n\n{new}: {MEANING[new]}.\n\n"
            "Its pod and containers are made again on the same volumes: project files, build cache "
            "and agent state are kept; running processes end and its SSH ports change.")


class SecurityScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, taskspace: str, current: str) -> None:
        super().__init__()
        self.taskspace = taskspace
        self.current = current or "open"

    def compose(self) -> ComposeResult:
        with Vertical(id="security-dialog", classes="dialog"):
            yield Static(f"Network security of {self.taskspace} (now {self.current})", classes="dialog-title")
            yield Select([(level, level) for level in LEVELS], value=self.current, allow_blank=False,
                         id="level")
            yield Static(MEANING[self.current], id="meaning")
            with Horizontal(classes="buttons"):
                yield Button("Change…", variant="primary", id="change", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_select_changed(self, event: Select.Changed) -> None:
        level = str(event.value)
        self.query_one("#meaning", Static).update(MEANING.get(level, ""))
        self.query_one("#change", Button).disabled = level == self.current

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "change":
            self.dismiss(str(self.query_one("#level", Select).value))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
