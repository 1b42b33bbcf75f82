"""Cleanup preview: the dry-run plan as a table; nothing is deleted until the person confirms."""

from __future__ import annotations

from datetime import timedelta

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
)

from symposium_tui.core import display as fmt
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.cleanup import Cleanup, CleanupPlan
from symposium_tui.core.units import parse_duration
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens.onhost import OnHost


class CleanupScreen(OnHost, Screen[None]):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"), Binding("R", "plan", "Re-plan")]

    def __init__(self, inactive_for: str = "7d") -> None:
        super().__init__()
        self.bind_host()
        self.inactive_for = inactive_for
        self.plan_made: CleanupPlan | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="cleanup-controls"):
            yield Input(self.inactive_for, placeholder="inactive for, e.g. 7d, 2h, 0s", id="inactive")
            yield Checkbox("include running", id="running")
            yield Button("Preview", id="preview")
        yield Static("making the plan (dry run)…", id="cleanup-summary")
        table: DataTable[str] = DataTable(id="plan", cursor_type="row", zebra_stripes=True)
        table.add_columns("ID", "STATUS", "WHY", "REMOVES", "KEEPS", "FREES", "WARNING")
        yield table
        yield ProgressBar(show_eta=False, id="cleanup-progress")
        with Horizontal(classes="buttons"):
            yield Button("Apply this plan", variant="error", id="apply", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cleanup-progress").display = False
        if self.app.read_only:
            self.query_one("#apply").display = False
        self.action_plan()

    def action_plan(self) -> None:
        try:
            seconds = parse_duration(self.query_one("#inactive", Input).value.strip(), "inactive for")
        except SymposiumError as exc:
            self.query_one("#cleanup-summary", Static).update(exc.message)
            return
        self.query_one("#apply", Button).disabled = True
        if self.services is None:
            self.query_one("#cleanup-summary", Static).update("not connected to podman yet")
            return
        self.make_plan(timedelta(seconds=seconds), self.query_one("#running", Checkbox).value)

    @work(thread=True, exclusive=True, group="cleanup", exit_on_error=False)
    def make_plan(self, inactive_for: timedelta, include_running: bool) -> None:
        try:
            plan = Cleanup(self.services.ctx).plan(inactive_for, include_running)
        except SymposiumError as exc:
            self.app.call_from_thread(self.query_one("#cleanup-summary", Static).update, exc.message)
            return
        self.app.call_from_thread(self.show_plan, plan)

    def show_plan(self, plan: CleanupPlan) -> None:
        self.plan_made = plan
        table = self.query_one("#plan", DataTable)
        table.clear()
        for item in plan.items:
            removes = ", ".join(t.name.removeprefix(f"taskspace-{item.taskspace}-") or t.name
                                for t in item.remove if t.kind != "container")
            keeps = ", ".join(t.role for t in item.keep) or "-"
            table.add_row(item.taskspace, item.status, item.why, removes, keeps,
                          fmt.size(item.bytes_reclaimed), item.warning or "", key=item.taskspace)
        self.query_one("#cleanup-summary", Static).update(
            f"Dry run: {len(plan.items)} taskspace(s) inactive for more than "
            f"{self.query_one('#inactive', Input).value}; {fmt.size(plan.bytes_reclaimed)} would be freed. "
            "Nothing has been deleted.")
        self.query_one("#apply", Button).disabled = not plan.items or self.app.read_only

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preview":
            self.action_plan()
        elif event.button.id == "apply" and self.plan_made is not None:
            from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

            plan = self.plan_made
            question = (f"Remove {len(plan.items)} taskspace(s) and free {fmt.size(plan.bytes_reclaimed)}? "
                        "Agent state is kept unless past its retention; items with unsaved work are skipped.")
            self.app.push_screen(ConfirmScreen(question), lambda yes: yes and self.apply(plan))

    @work(thread=True, exclusive=True, group="cleanup", exit_on_error=False)
    def apply(self, plan: CleanupPlan) -> None:
        self.app.call_from_thread(self._start_progress, len(plan.items))
        done: list[str] = []

        def progress(item: str, what: str) -> None:
            if what != "re-checking":
                done.append(item)
                self.app.call_from_thread(self._advance, f"{item}: {what}")
        outcomes = Cleanup(self.services.ctx).apply(plan, progress=progress)
        removed = sum(1 for o in outcomes if o.removed)
        freed = sum(o.bytes for o in outcomes if o.removed)
        summary = f"cleanup: {removed} removed, {len(outcomes) - removed} skipped, {fmt.size(freed)} freed"
        self.app.post_message(OperationFinished(summary, failed=any(o.result.startswith("failed")
                                                                      for o in outcomes)))
        self.app.call_from_thread(self._finished, summary, [f"{o.item}: {o.result}" for o in outcomes])

    def _start_progress(self, total: int) -> None:
        bar = self.query_one("#cleanup-progress", ProgressBar)
        bar.update(total=total, progress=0)
        bar.display = True
        self.query_one("#apply", Button).disabled = True

    def _advance(self, text: str) -> None:
        self.query_one("#cleanup-progress", ProgressBar).advance(1)
        self.query_one("#cleanup-summary", Static).update(text)

    def _finished(self, summary: str, lines: list[str]) -> None:
        self.query_one("#cleanup-summary", Static).update(summary + "\n" + "\n".join(lines))
        self.plan_made = None
