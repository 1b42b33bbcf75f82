"""Reach a port inside a taskspace from this machine (`p`): what listens there, the forwards the
dashboard keeps for it, a port to forward and the local port it gets. The app starts and ends
the forwards; they last while the dashboard runs."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ports import OURS

Choice = tuple[str, int, int]  # ("forward", port inside, local port) or ("stop", 0, 0)


class ForwardScreen(ModalScreen[Choice | None]):
    HELP_TITLE = "Forward a port"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, taskspace: str, load: Callable[[], list], forwarding: list[str]) -> None:
        super().__init__()
        self.taskspace = taskspace
        self.load = load  # what listens inside (a thread calls it: it asks the engine)
        self.forwarding = forwarding

    def compose(self) -> ComposeResult:
        with Vertical(id="forward-dialog", classes="dialog"):
            yield Static(Text(f"Forward a port of {self.taskspace} to this machine's 127.0.0.1"),
                         classes="dialog-title")
            yield Static("reading what listens inside…", id="listening")
            yield Static(Text("forwarding now: " + ", ".join(self.forwarding)) if self.forwarding
                         else "", id="forwarding")
            with Horizontal(classes="field"):
                yield Label("Port inside")
                yield Input(placeholder="e.g. 8000", id="port", type="integer", compact=True)
            with Horizontal(classes="field"):
                yield Label("Local port")
                yield Input(placeholder="empty: the same", id="local", type="integer", compact=True)
            yield Static("", id="forward-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Forward", variant="primary", id="forward")
                if self.forwarding:
                    yield Button("Stop its forwards", variant="warning", id="stop")
                yield Button("Cancel", id="cancel")

    def key_help(self) -> list[tuple[str, str]]:
        return [("tab", "the next field"), ("enter", "forward (in a field, or on Forward)"), ("escape", "cancel")]

    def on_mount(self) -> None:
        self.query_one("#forwarding").display = bool(self.forwarding)
        self.query_one("#port", Input).focus()
        self.read_listening()

    @work(thread=True, exclusive=True, group="forward-ports", exit_on_error=False)
    def read_listening(self) -> None:
        try:
            found = self.load()
        except SymposiumError as exc:
            self.app.call_from_thread(self._listed, f"cannot read what listens inside: {exc.message}", None)
            return
        theirs = [p for p in found if p.port not in OURS]
        text = ("listening inside: " + ", ".join(f"{p.port} ({p.address})" for p in theirs)) if theirs \
            else "nothing listens inside yet but its sshds (start a server, then p again)"
        self.app.call_from_thread(self._listed, text, theirs[0].port if theirs else None)

    def _listed(self, text: str, first: int | None) -> None:
        if not self.is_attached:
            return
        self.query_one("#listening", Static).update(Text(text))
        port = self.query_one("#port", Input)
        if first is not None and not port.value:
            port.value = str(first)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._forward()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "forward":
            self._forward()
        elif event.button.id == "stop":
            self.dismiss(("stop", 0, 0))
        else:
            self.dismiss(None)

    def _forward(self) -> None:
        port_text = self.query_one("#port", Input).value.strip()
        local_text = self.query_one("#local", Input).value.strip()
        try:
            port = int(port_text)
            local = int(local_text) if local_text else port
        except ValueError:
            self._error("Port inside: a number such as 8000")
            return
        for name, value in (("Port inside", port), ("Local port", local)):
            if not 0 < value < 65536:
                self._error(f"{name}: a TCP port is 1..65535")
                return
        self.dismiss(("forward", port, local))

    def _error(self, text: str) -> None:
        self.query_one("#forward-error", Static).update(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
