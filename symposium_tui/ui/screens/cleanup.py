"""Cleanup preview: the dry-run plan as a table, the selected item's details beneath it; nothing
is deleted until the person confirms (twice when forcing past unsaved work).

The defaults are the CLI's (`cleanup` without options): 7 days, running taskspaces left out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
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
from symposium_tui.ui.forms import field_message
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens import cleanup_text as say
from symposium_tui.ui.screens.onhost import OnHost

if TYPE_CHECKING:
    from symposium_tui.session import HostSession

COLUMNS = {"ID": None, "STATUS": 8, "FREES": 5, "ON APPLY": 18, "WHY": None}  # None: fitted
MOST_ID = 24


class CleanupScreen(OnHost, Screen[None]):
    HELP_TITLE = "Cleanup preview"
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"), Binding("R", "plan", "Re-plan")]

    def __init__(self, inactive_for: str = "7d") -> None:
        super().__init__()
        self.bind_host()
        self.inactive_for = inactive_for
        self.plan_made: CleanupPlan | None = None
        self.planned_for = ""  # the threshold as typed when the plan was asked for
        self.stale = False  # the threshold was edited since the plan was made

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="cleanup-controls"):
            yield Input(self.inactive_for, placeholder="inactive for, e.g. 7d, 2h, 0s", id="inactive")
            yield Checkbox("include running", id="running")
            yield Button("Preview", id="preview")
        yield Static("making the plan (dry run)…", id="cleanup-summary")
        yield DataTable(id="plan", cursor_type="row", zebra_stripes=True)
        yield Static("", id="item-details")
        yield ProgressBar(show_eta=False, id="cleanup-progress")
        with Horizontal(classes="buttons"):
            yield Checkbox("force: also those with unsaved work", id="force")
            yield Button("Apply this plan", variant="error", id="apply", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cleanup-progress").display = False
        self.query_one("#force").display = False
        self.query_one("#item-details").display = False
        if self.app.read_only:
            self.query_one("#apply").display = False
        self.action_plan()

    def key_help(self) -> list[tuple[str, str]]:
        keys = [("enter (threshold)", "make the plan for the threshold typed"), ("R", "make the plan again"),
                ("↑ / ↓", "select an item: what it removes, keeps and frees is shown below it"),
                ("tab", "the next control"), ("escape / q", "back")]
        if self.app.read_only:
            keys.insert(3, ("", "read-only: a preview; Apply is not offered"))
        return keys

    # -- the plan --------------------------------------------------------------------------------
    def action_plan(self) -> None:
        typed = self.query_one("#inactive", Input).value.strip()
        try:
            seconds = parse_duration(typed, "--inactive-for")
        except SymposiumError as exc:
            self._say(Text(field_message("Inactive for", exc)))
            return
        self.query_one("#apply", Button).disabled = True
        if self.services is None:
            self._say(Text("not connected to podman yet"))
            return
        self._say(Text("making the plan (dry run)…"))
        self.planned_for = typed
        self.make_plan(self.services, timedelta(seconds=seconds), self.query_one("#running", Checkbox).value)

    @work(thread=True, exclusive=True, group="cleanup", exit_on_error=False)
    def make_plan(self, services: HostSession, inactive_for: timedelta, include_running: bool) -> None:
        try:
            plan = Cleanup(services.ctx).plan(inactive_for, include_running)
        except SymposiumError as exc:
            self.app.call_from_thread(self._say, Text(exc.message))
            return
        self.app.call_from_thread(self.show_plan, plan)

    def show_plan(self, plan: CleanupPlan) -> None:
        self.plan_made, self.stale = plan, False
        force = self.query_one("#force", Checkbox)
        force.display = bool(say.held_back(plan)) and not self.app.read_only
        if not force.display:
            force.value = False
        self._fill_table()
        self._show_state()

    @property
    def force(self) -> bool:
        return self.query_one("#force", Checkbox).value

    def _fill_table(self) -> None:
        table = self.query_one("#plan", DataTable)
        selected = table.cursor_row
        table.clear(columns=True)
        items = self.plan_made.items if self.plan_made else ()
        id_width = min(max([len(i.taskspace) for i in items] + [2]), MOST_ID)
        fixed = id_width + sum(w for w in COLUMNS.values() if w) + 2 * len(COLUMNS)
        why_width = max((self.size.width or self.app.size.width) - fixed - 2, 10)  # 2: a scrollbar
        for column, width in COLUMNS.items():
            table.add_column(column, key=column, width=width or (id_width if column == "ID" else why_width))
        for item in items:
            # Text cells: ids, reasons and warnings come from the engine, never markup.
            table.add_row(Text(item.taskspace), Text(item.status), Text(fmt.size(item.bytes_reclaimed)),
                          say.on_apply(item, self.force), Text(item.why), key=item.taskspace)
        if 0 < selected < table.row_count:
            table.move_cursor(row=selected, animate=False)  # the same plan, laid out again

    def _show_state(self) -> None:
        """The summary, the selected item's details and Apply, from the plan and the controls."""
        plan = self.plan_made
        if plan is None:
            return
        text = say.summary(plan, self.force, self.app.read_only)
        if self.stale:
            text.append("\nThe threshold changed: press enter to make the plan for it.", style="bold")
        self._say(text)
        self._describe_selected()
        nothing = not say.removed_on_apply(plan, self.force)
        self.query_one("#apply", Button).disabled = self.app.read_only or nothing or self.stale

    def _describe_selected(self) -> None:
        pane = self.query_one("#item-details", Static)
        table = self.query_one("#plan", DataTable)
        item = None
        if self.plan_made is not None and table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            item = next((i for i in self.plan_made.items if i.taskspace == key), None)
        pane.display = item is not None
        if item is not None:
            pane.update(say.details(item, self.force))

    def _say(self, text: Text) -> None:
        self.query_one("#cleanup-summary", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe_selected()

    def on_resize(self) -> None:
        if self.plan_made is not None:
            self._fill_table()  # WHY takes the width there is

    # -- controls --------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "inactive":
            self.action_plan()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "inactive" and self.plan_made is not None:
            # Apply must not run a plan made for another threshold than the one on screen.
            self.stale = event.value.strip() != self.planned_for
            self._show_state()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "running":
            self.action_plan()  # a plan for what the box says, at once
        elif event.checkbox.id == "force" and self.plan_made is not None:
            self._fill_table()
            self._show_state()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preview":
            self.action_plan()
        elif event.button.id == "apply" and self.plan_made is not None:
            self._confirm_apply(self.plan_made, self.force)

    def _confirm_apply(self, plan: CleanupPlan, force: bool) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

        def first(yes: bool | None) -> None:
            if not yes:
                return
            if force and say.held_back(plan):
                self.app.push_screen(ConfirmScreen(say.force_question(plan)),
                                     lambda sure: self.apply(self.services, plan, True) if sure else None)
            else:
                self.apply(self.services, plan, force)
        self.app.push_screen(ConfirmScreen(say.apply_question(plan, force)), first)

    # -- apply -----------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="cleanup", exit_on_error=False)
    def apply(self, services: HostSession, plan: CleanupPlan, force: bool = False) -> None:
        self.app.call_from_thread(self._start_progress, len(plan.items))

        def progress(item: str, what: str) -> None:
            if what != "re-checking":
                self.app.call_from_thread(self._advance, f"{item}: {what}")
        outcomes = Cleanup(services.ctx).apply(plan, force=force, progress=progress)
        removed = sum(1 for o in outcomes if o.removed)
        freed = sum(o.bytes for o in outcomes if o.removed)
        summary = f"cleanup: {removed} removed, {len(outcomes) - removed} skipped, {fmt.size(freed)} freed"
        self.app.post_message(OperationFinished(summary, failed=any(o.result.startswith("failed")
                                                                      for o in outcomes), host=self.engine_host))
        self.app.call_from_thread(self._finished, summary, [f"{o.item}: {o.result}" for o in outcomes])

    def _start_progress(self, total: int) -> None:
        bar = self.query_one("#cleanup-progress", ProgressBar)
        bar.update(total=total, progress=0)
        bar.display = True
        self.query_one("#apply", Button).disabled = True

    def _advance(self, text: str) -> None:
        self.query_one("#cleanup-progress", ProgressBar).advance(1)
        self._say(Text(text))

    def _finished(self, summary: str, lines: list[str]) -> None:
        self._say(Text(summary + "\n" + "\n".join(lines)))
        self.plan_made = None
        self.query_one("#force").display = False
