"""Remove a taskspace, after a confirmation that shows what goes and what is kept.

The dialog removes it itself: a refusal (work that exists nowhere else) is said here, with what
is unsaved, and the choice to force, which asks once more naming the work that would be lost.
Closing with a failure toast left the person with nothing to act on.
"""

from __future__ import annotations

from dataclasses import dataclass

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



@dataclass(frozen=True)
class Removal:
    """One taskspace to remove: its id, the lifecycle of its host, the host's name (shown when
    the marked rows are on several hosts)."""

    taskspace: str
    lifecycle: object
    host: str = ""

    @property
    def label(self) -> str:
        return f"{self.taskspace} on {self.host}" if self.host else self.taskspace


class RemoveScreen(ModalScreen[str | None]):
    """Dismisses with what was removed and kept, or None when nothing was. One taskspace, or the
    marked ones (`several`): each one's unsaved work listed, and without the force box those
    with unsaved work are left, the others removed."""

    BINDINGS = [Binding("escape,n", "cancel", "Cancel")]

    def __init__(self, taskspace: str, lifecycle: object) -> None:
        super().__init__()
        self.targets = [Removal(taskspace, lifecycle)]
        self.unsaved: dict[str, str] = {}  # label -> what the inspection found unsaved
        self.plan_text = Text()
        self.removing = False

    @classmethod
    def several(cls, targets: list[Removal]) -> RemoveScreen:
        screen = cls(targets[0].taskspace, targets[0].lifecycle)
        screen.targets = list(targets)
        return screen

    @property
    def taskspace(self) -> str:
        return self.targets[0].taskspace

    @property
    def one(self) -> bool:
        return len(self.targets) == 1

    def compose(self) -> ComposeResult:
        title = f"Remove {self.taskspace}?" if self.one else f"Remove these {len(self.targets)} taskspaces?"
        with Vertical(id="remove-dialog", classes="dialog"):
            yield Static(Text(title), classes="dialog-title")
            yield Static("looking at what it holds…" if self.one else "looking at what they hold…", id="remove-plan")
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
        if not self.one:
            self._inspect_several()
            return
        lifecycle = self.targets[0].lifecycle
        try:
            inventory = lifecycle.inventory(self.taskspace)
            work = lifecycle.unsaved_work(self.taskspace, inventory)
        except SymposiumError as exc:
            # Remove stays possible: it looks again, and says why if it cannot.
            self.app.call_from_thread(self._show, Text(f"cannot look inside: {exc.message}"), {})
            return
        goes = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) in REMOVED_WITH_TASKSPACE]
        goes += [f"{n.name} and its firewall rules" for n in inventory.networks]
        kept = [v.name for v in inventory.volumes if v.labels.get(L.ROLE) == "agent-state"]
        text = Text(f"goes: pod taskspace-{self.taskspace}, its containers, {', '.join(goes) or 'no volumes'}\n"
                    f"kept: {', '.join(kept) or 'nothing'} (unless you tick the box), the repository's base")
        unsaved = work.describe() if work.any else ""
        if unsaved:
            text.append(f"\nunsaved work: {unsaved}", style="bold red")
        self.app.call_from_thread(self._show, text, {self.targets[0].label: unsaved} if unsaved else {})

    def _inspect_several(self) -> None:
        text = Text("goes: each one's pod, containers, project disk and layer, build cache, network\n"
                    "kept: their agent state (unless you tick the box), the repositories' bases")
        unsaved: dict[str, str] = {}
        for target in self.targets:
            try:
                work = target.lifecycle.unsaved_work(target.taskspace, target.lifecycle.inventory(target.taskspace))
                found = work.describe() if work.any else ""
            except SymposiumError as exc:
                text.append(f"\n  {target.label}: cannot look inside: {exc.message}")
                continue
            text.append(f"\n  {target.label}")
            if found:
                unsaved[target.label] = found
                text.append(f": unsaved work: {found}", style="bold red")
        if unsaved:
            stay = "the one with unsaved work stays" if len(unsaved) == 1 else \
                f"the {len(unsaved)} with unsaved work stay"
            text.append(f"\nwithout the box below, {stay}", style="bold")
        self.app.call_from_thread(self._show, text, unsaved)

    def _show(self, text: Text, unsaved: dict[str, str]) -> None:
        self.unsaved, self.plan_text = unsaved, text
        self.query_one("#remove-plan", Static).update(text)
        self.query_one("#force").display = bool(unsaved)
        self.query_one("#remove", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "remove":
            self.action_cancel()
            return
        purge, force = self.query_one("#purge", Checkbox).value, self.query_one("#force", Checkbox).value
        if self.unsaved and not force and (self.one or len(self.unsaved) == len(self.targets)):
            self._refused()  # known already: no need to ask the engine to refuse
        elif force and self.unsaved:
            from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

            lost = "\n".join(f"{label}: {work}" for label, work in self.unsaved.items()) if not self.one \
                else next(iter(self.unsaved.values()))
            what = self.taskspace if self.one else f"these {len(self.targets)} taskspaces"
            question = (f"Remove {what} and lose work that exists nowhere else?\n\n"
                        f"{lost}\n\nThis cannot be undone.")
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._remove(purge, True) if yes else None)
        else:
            self._remove(purge, force)

    def _remove(self, purge: bool, force: bool) -> None:
        self.removing = True
        self.query_one("#remove", Button).disabled = True
        self._say(Text(f"removing {self.taskspace}…" if self.one else "removing…", style="bold"))
        self.run_removal(purge, force)

    @work(thread=True, exclusive=True, group="remove", exit_on_error=False)
    def run_removal(self, purge: bool, force: bool) -> None:
        if not self.one:
            self._remove_several(purge, force)
            return
        try:
            removed = self.targets[0].lifecycle.remove(self.taskspace, purge_state=purge, force=force)
        except UnsavedWorkRefusal as exc:
            work = exc.work.describe() if exc.work is not None else exc.message
            self.app.call_from_thread(self._refused_with, work)
            return
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        kept = f"; kept {', '.join(removed['kept'])}" if removed.get("kept") else ""
        self.app.call_from_thread(self.dismiss, f"removed {self.taskspace}{kept}")

    def _remove_several(self, purge: bool, force: bool) -> None:
        """One after the other; those with unsaved work (found then or now) stay unless forced."""
        removed, stayed, failed = [], [], []
        for target in self.targets:
            if target.label in self.unsaved and not force:
                stayed.append(target.label)
                continue
            try:
                target.lifecycle.remove(target.taskspace, purge_state=purge, force=force)
                removed.append(target.label)
            except UnsavedWorkRefusal:
                stayed.append(target.label)
            except SymposiumError as exc:
                failed.append(f"{target.label} ({exc.message})")
        parts = [f"removed {', '.join(removed) or 'none'}"]
        if stayed:
            parts.append(f"kept {', '.join(stayed)} (unsaved work)")
        if failed:
            parts.append(f"failed: {'; '.join(failed)}")
        self.app.call_from_thread(self.dismiss, "; ".join(parts))

    def _refused_with(self, work: str) -> None:
        """Unsaved work since the dialog looked (or it could not look): the same choice now."""
        self.removing = False
        self.query_one("#remove", Button).disabled = False
        text = self.plan_text.copy()
        text.append(f"\nunsaved work: {work}", style="bold red")
        self._show(text, {self.targets[0].label: work})
        self._refused()

    def _failed(self, message: str) -> None:
        self.removing = False
        self.query_one("#remove", Button).disabled = False
        self._say(Text(f"remove failed: {message}"))

    def _refused(self) -> None:
        what = "the unsaved work above exists" if self.one else "each one holds unsaved work that exists"
        self._say(Text(f"refused: {what} nowhere else. Push it first, or tick "
                       "\"remove even with unsaved work\" to lose it."))

    def _say(self, text: Text) -> None:
        outcome = self.query_one("#remove-outcome", Static)
        outcome.update(text)
        outcome.display = True

    def action_cancel(self) -> None:
        if not self.removing:
            self.dismiss(None)
