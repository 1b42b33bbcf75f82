"""Copy files into or out of a taskspace (`c`): which way, the path in the taskspace (relative to
/workspace), the path here, which container. The app copies (the same service as `cp`)."""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from symposium_tui.core.copying import Endpoint, container_path
from symposium_tui.core.errors import UsageError

WAYS = [("out of the taskspace, to here", "out"), ("into the taskspace, from here", "in")]
ROLES = [("dev container", "dev"), ("agent container", "agent")]

CopyChoice = tuple[Endpoint, Endpoint, str]  # source, dest, role


class CopyScreen(ModalScreen[CopyChoice | None]):
    HELP_TITLE = "Copy files"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, taskspace: str) -> None:
        super().__init__()
        self.taskspace = taskspace

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-dialog", classes="dialog"):
            yield Static(Text(f"Copy files of {self.taskspace}"), classes="dialog-title")
            with Horizontal(classes="field"):
                yield Label("Which way")
                yield Select(WAYS, value="out", allow_blank=False, id="way", compact=True)
            with Horizontal(classes="field"):
                yield Label("In it")
                yield Input(placeholder="a path, relative to /workspace (e.g. dist)", id="inside", compact=True)
            with Horizontal(classes="field"):
                yield Label("Here")
                yield Input(value=os.getcwd(), id="here", compact=True)
            with Horizontal(classes="field"):
                yield Label("Container")
                yield Select(ROLES, value="dev", allow_blank=False, id="role", compact=True)
            yield Static("links the container made are followed inside it or left out; nothing of this "
                         "machine's is read through them", classes="dialog-hint")
            yield Static("", id="copy-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Copy", variant="primary", id="copy")
                yield Button("Cancel", id="cancel")

    def key_help(self) -> list[tuple[str, str]]:
        return [("tab", "the next field"), ("enter", "copy (in a field, or on Copy)"), ("escape", "cancel")]

    def on_mount(self) -> None:
        self.query_one("#inside", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._copy()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self._copy()
        else:
            self.dismiss(None)

    def _copy(self) -> None:
        inside_text = self.query_one("#inside", Input).value.strip()
        here_text = self.query_one("#here", Input).value.strip()
        if not inside_text:
            self._error("In it: the path in the taskspace (relative to /workspace, or absolute)")
            return
        if not here_text:
            self._error("Here: a path on this machine")
            return
        try:
            inside = Endpoint(self.taskspace, container_path(inside_text), inside_text.endswith("/"))
        except UsageError as exc:
            self._error(f"In it: {exc.message}")
            return
        here = Endpoint(None, os.path.expanduser(here_text), here_text.endswith("/"))
        out = self.query_one("#way", Select).value == "out"
        if not out and not os.path.exists(here.path):
            self._error(f"Here: {here.path}: no such file or folder")
            return
        role = str(self.query_one("#role", Select).value)
        self.dismiss((inside, here, role) if out else (here, inside, role))

    def _error(self, text: str) -> None:
        self.query_one("#copy-error", Static).update(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
