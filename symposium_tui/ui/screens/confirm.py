"""Remove a taskspace, after a confirmation that shows what goes and what is kept."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.taskspace import REMOVED_WITH_TASKSPACE


class RemoveScreen(ModalScreen[tuple[bool, bool] | None]):
    """Dismisses with (purge_state, force), or None when cancelled."""

    BINDINGS = [Binding("escape,n", "cancel", "Cancel")]

    def __init__(self, taskspace: str, lifecycle: object) -> None:
        super().__init__()
        self.taskspace = taskspace
        self.lifecycle = lifecycle

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-dialog", classes="dialog"):
            yield Static(f"Remove {self.taskspace}?", classes="dialog-title")
            yield Static("looking at what it holds…", id="remove-plan")
            yield Checkbox("also remove the agent state", id="purge")
            yield Checkbox("remove even with unsaved work", id="force")
            with Horizontal(classes="buttons"):
                yield Button("Remove", variant="error", id="remove")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#force").display = False
        self.inspect()

    @work(thread=True, exclusive=True, group="remove-plan", exit_on_error=False)
    def inspect(self) -> None:
        try:
            inventory = self.lifecycle.inventory(self.taskspace)
            work = self.lifecycle.unsaved_work(self.taskspace, inventory)
        except SymposiumError as exc:
            self.app.call_from_thread(self.query_one("#remove-plan", Static).update, exc.message)
            return
        goes = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) in REMOVED_WITH_TASKSPACE]
        goes += [f"{n.name} and its firewall rules" for n in inventory.networks]
        kept = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) == "agent-state"]
        text = (f"goes: pod taskspace-{self.taskspace}, its containers, {', '.join(goes) or 'no volumes'}\n"
                f"kept: {', '.join(kept) or 'nothing'} (unless you tick the box), the repository's base")
        if work.any:
            text += f"\n[b red]unsaved work: {work.describe()}[/]"
        self.app.call_from_thread(self._show, text, work.any)

    def _show(self, text: str, unsaved: bool) -> None:
        self.query_one("#remove-plan", Static).update(text)
        self.query_one("#force").display = unsaved

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "remove":
            self.dismiss((self.query_one("#purge", Checkbox).value, self.query_one("#force", Checkbox).value))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
