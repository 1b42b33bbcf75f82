"""Remove a taskspace, after a confirmation that shows what goes and what is kept.

The dialog removes it itself: a refusal (work that exists nowhere else) is said here, with what
is unsaved, and the choice to force, which asks once more naming the work that would be lost.
Closing with a failure toast left the person with nothing to act on.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError, UnsavedWorkRefusal
from symposium_tui.core.taskspace import REMOVED_WITH_TASKSPACE



class RemoveScreen(ModalScreen[str | None]):
    """Dismisses with what was removed and kept, or None when nothing was."""

    BINDINGS = [Binding("escape,n", "cancel", "Cancel")]

    def __init__(self, taskspace: str, lifecycle: object) -> None:
        super().__init__()
        self.taskspace = taskspace
        self.lifecycle = lifecycle
        self.unsaved = ""  # what the inspection found unsaved ("" none or not known yet)
        self.plan_text = Text()
        self.removing = False

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-dialog", classes="dialog"):
            yield Static(Text(f"Remove {self.taskspace}?"), classes="dialog-title")
            yield Static("looking at what it holds…", id="remove-plan")
            yield Static("", id="remove-outcome", classes="error")
            yield Checkbox("also remove the agent state", id="purge", compact=True)
            yield Checkbox("remove even with unsaved work (asks again)", id="force", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Remove", variant="error", id="remove", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#force").display = False
        self.query_one("#remove-outcome").display = False
        self.inspect()

    @work(thread=True, exclusive=True, group="remove-plan", exit_on_error=False)
    def inspect(self) -> None:
        try:
            inventory = self.lifecycle.inventory(self.taskspace)
            work = self.lifecycle.unsaved_work(self.taskspace, inventory)
        except SymposiumError as exc:
            # Remove stays possible: it looks again, and says why if it cannot.
            self.app.call_from_thread(self._show, Text(f"cannot look inside: {exc.message}"), "")
            return
        goes = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) in REMOVED_WITH_TASKSPACE]
        goes += [f"{n.name} and its firewall rules" for n in inventory.networks]
        kept = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) == "agent-state"]
        text = Text(f"goes: pod taskspace-{self.taskspace}, its containers, {', '.join(goes) or 'no volumes'}\n"
                    f"kept: {', '.join(kept) or 'nothing'} (unless you tick the box), the repository's base")
        unsaved = work.describe() if work.any else ""
        if unsaved:
            text.append(f"\nunsaved work: {unsaved}", style="bold red")
        self.app.call_from_thread(self._show, text, unsaved)

    def _show(self, text: Text, unsaved: str) -> None:
        self.unsaved, self.plan_text = unsaved, text
        self.query_one("#remove-plan", Static).update(text)
        self.query_one("#force").display = bool(unsaved)
        self.query_one("#remove", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "remove":
            self.action_cancel()
            return
        purge, force = self.query_one("#purge", Checkbox).value, self.query_one("#force", Checkbox).value
        if self.unsaved and not force:
            self._refused()  # known already: no need to ask the engine to refuse
        elif force and self.unsaved:
            from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

            question = (f"Remove {self.taskspace} and lose work that exists nowhere else?\n\n"
                        f"{self.unsaved}\n\nThis cannot be undone.")
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._remove(purge, True) if yes else None)
        else:
            self._remove(purge, force)

    def _remove(self, purge: bool, force: bool) -> None:
        self.removing = True
        self.query_one("#remove", Button).disabled = True
        self._say(Text(f"removing {self.taskspace}…", style="bold"))
        self.run_removal(purge, force)

    @work(thread=True, exclusive=True, group="remove", exit_on_error=False)
    def run_removal(self, purge: bool, force: bool) -> None:
        try:
            removed = self.lifecycle.remove(self.taskspace, purge_state=purge, force=force)
        except UnsavedWorkRefusal as exc:
            work = exc.work.describe() if exc.work is not None else exc.message
            self.app.call_from_thread(self._refused_with, work)
            return
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        kept = f"; kept {', '.join(removed['kept'])}" if removed.get("kept") else ""
        self.app.call_from_thread(self.dismiss, f"removed {self.taskspace}{kept}")

    def _refused_with(self, work: str) -> None:
        """Unsaved work since the dialog looked (or it could not look): the same choice now."""
        self.removing = False
        self.query_one("#remove", Button).disabled = False
        text = self.plan_text.copy()
        text.append(f"\nunsaved work: {work}", style="bold red")
        self._show(text, work)
        self._refused()

    def _failed(self, message: str) -> None:
        self.removing = False
        self.query_one("#remove", Button).disabled = False
        self._say(Text(f"remove failed: {message}"))

    def _refused(self) -> None:
        self._say(Text("refused: the unsaved work above exists nowhere else. Push it first, or tick "
                       "\"remove even with unsaved work\" to lose it."))

    def _say(self, text: Text) -> None:
        outcome = self.query_one("#remove-outcome", Static)
        outcome.update(text)
        outcome.display = True

    def action_cancel(self) -> None:
        if not self.removing:
            self.dismiss(None)
