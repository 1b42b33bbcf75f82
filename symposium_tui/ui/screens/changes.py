"""What one taskspace changed since its start commit: the files with their lines added and
removed, the commits on its branch, the patch; and fetching that branch into the repository it
was made from, after a confirmation that names both.

git runs inside the taskspace (TaskspaceChanges), in a thread worker; everything shown came from
the agent, so it is escaped (core.display.printable) and drawn as Text, never as markup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from symposium_tui.core.display import one_line, printable
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.services.changes_watch import cell
from symposium_tui.ui.keys import allowed
from symposium_tui.ui.screens.onhost import OnHost
from symposium_tui.ui.widgets.patch import PatchLines, PatchView

if TYPE_CHECKING:
    from symposium_tui.core.services.changes import Changes
    from symposium_tui.session import HostSession

MORE_COMMITS = "…"


@dataclass(frozen=True)
class Read:
    """One read of the changes, made ready to show (in the worker)."""

    changes: Changes
    patch: PatchLines
    into: str  # the repository fetch brings the branch into ("": none on this machine)
    into_problem: str  # why there is none


class ChangesScreen(OnHost, Screen[None]):
    HELP_TITLE = "Changes"
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("r", "refresh", "Read again"),
        Binding("f", "fetch", "Fetch"),
    ]

    def __init__(self, taskspace: str) -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace
        self.read: Read | None = None
        self.reading = False
        self.fetching = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="changes-summary", markup=False)
        yield DataTable(id="changed-files", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="commits", cursor_type="row", zebra_stripes=True)
        yield PatchView(id="patch")
        yield Static(id="changes-outcome", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"changes of {self.taskspace}"
        files = self.query_one("#changed-files", DataTable)
        for label, key, width in (("+", "added", 6), ("−", "removed", 6), ("STATUS", "status", 13),
                                  ("PATH", "path", None)):
            files.add_column(label, key=key, width=width)
        commits = self.query_one("#commits", DataTable)
        commits.add_column("COMMIT", key="sha", width=12)
        commits.add_column("SUBJECT", key="subject")
        self.query_one("#changes-outcome").display = False
        self._show_parts(False)
        self.query_one("#patch", PatchView).focus()
        self.load()

    def key_help(self) -> list[tuple[str, str]]:
        return allowed(self.app, [
            ("↑ ↓ ← → pgup pgdn", "scroll the patch", "scroll"), ("tab", "files, commits, the patch", "focus"),
            ("enter", "on a file: go to its part of the patch", "select"), ("r", "read the changes again", "refresh"),
            ("f", "fetch its branch into its repository (asks first)", "fetch"),
            ("escape / q", "back", "back")])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fetch":
            return self.app.check_action(action, parameters)  # not in --read-only
        return True

    # -- reading ---------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load()

    def load(self) -> None:
        if self.reading:
            return
        services = self.services
        if services is None or services.changes is None:
            self._failed("not connected to podman yet", None)
            return
        self.reading = True
        self._summary(Text(f"reading the changes of {self.taskspace}…", style="italic"), error=False)
        self.read_changes(services)

    @work(thread=True, exclusive=True, group="changes-read", exit_on_error=False)
    def read_changes(self, services: HostSession) -> None:
        began = time.time()
        try:
            inventory = services.lifecycle.inventory(self.taskspace)
            if inventory.volume("workspace") is None:
                raise SymposiumError(f"{self.taskspace} has no workspace on the engine (removed?)")
            _, _, repo = services.changes.origin(self.taskspace, inventory)
            into, problem = "", ""
            try:
                into = str(services.changes.target(self.taskspace, repo, None))
            except UsageError as exc:
                problem = exc.message
            with services.own_read(self.taskspace):
                changes = services.changes.read(self.taskspace, "patch", inventory=inventory)
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, exc.message, exc.hint)
            return
        except BaseException:
            self.app.call_from_thread(self._failed, "reading them failed (see the notification)", None)
            raise  # said by App.on_worker_state_changed
        if changes.patch or not changes.files:
            patch = PatchLines.of(changes.patch, changes.patch_cut) if changes.patch else \
                PatchLines.saying("no changes since the start commit")
        else:
            patch = PatchLines.saying("the patch is empty (only files whose contents git does not show)")
        self.app.call_from_thread(self._show, Read(changes, patch, into, problem), began, time.time())

    def _failed(self, message: str, hint: str | None) -> None:
        self.reading = False
        if not self.is_attached:
            return
        text = Text(f"cannot read the changes of {self.taskspace}: {one_line(message)}", style="bold")
        if hint:
            text.append(f"\n{one_line(hint)}")
        self._summary(text, error=True)
        if self.read is None:
            self._show_parts(False)

    def _show(self, read: Read, began: float, ended: float) -> None:
        self.reading = False
        state = self.host_state
        if state is not None:  # the list's CHANGES cell too: this read is newer
            state.changes.record(self.taskspace, cell(read.changes), began, ended)
            if home := self.app.home_screen():
                home.show_hosts()
        if not self.is_attached:
            return
        self.read = read
        self._summary(self._describe(read.changes), error=False)
        self._files(read.changes)
        self._commits(read.changes)
        self.query_one("#patch", PatchView).show(read.patch)
        self._show_parts(True)

    def _describe(self, changes: Changes) -> Text:
        head = f"branch {printable(changes.branch)} from {changes.start[:12]}"
        if not changes.tip:
            head += f" · the branch is gone; HEAD at {changes.head[:12] or 'nothing'}"
        elif changes.checked_out != changes.branch:
            head += f" · HEAD on {printable(changes.checked_out) or 'no branch'} at {changes.head[:12]}"
        files = len(changes.files)
        parts = [f"+{changes.added} −{changes.removed} in {files} file{'s' * (files != 1)}",
                 f"{changes.commit_count} commit{'s' * (changes.commit_count != 1)}"]
        if changes.uncommitted:
            parts.append(f"{len(changes.uncommitted)} uncommitted (*)")
        text = Text(head + "\n" + " · ".join(parts))
        if changes.patch_cut:
            text.append(" · the patch is cut", style="bold")
        return text

    def _files(self, changes: Changes) -> None:
        table = self.query_one("#changed-files", DataTable)
        table.clear()
        uncommitted = {entry[3:] for entry in changes.uncommitted}
        for index, change in enumerate(changes.files):
            added = "bin" if change.added is None else f"+{change.added}"
            removed = "bin" if change.removed is None else f"−{change.removed}"
            status = change.status + (" *" if change.path in uncommitted else "")
            table.add_row(Text(added, style="green", justify="right"), Text(removed, style="red", justify="right"),
                          Text(status), Text(printable(change.path)), key=str(index))

    def _commits(self, changes: Changes) -> None:
        table = self.query_one("#commits", DataTable)
        table.clear()
        for commit in changes.commits:
            table.add_row(Text(commit.sha[:12], style="yellow"), Text(one_line(commit.subject)), key=commit.sha)
        if changes.commit_count > len(changes.commits):
            table.add_row(Text(MORE_COMMITS), Text(f"and {changes.commit_count - len(changes.commits)} more"),
                          key=MORE_COMMITS)
        table.display = bool(changes.commit_count)

    def _summary(self, text: Text, *, error: bool) -> None:
        summary = self.query_one("#changes-summary", Static)
        summary.update(text)
        summary.set_class(error, "-error")

    def _show_parts(self, shown: bool) -> None:
        for selector in ("#changed-files", "#patch"):
            self.query_one(selector).display = shown
        if not shown:
            self.query_one("#commits").display = False
        elif self.read is not None:
            self.query_one("#changed-files").display = bool(self.read.changes.files)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A file chosen: its part of the patch."""
        if event.data_table.id != "changed-files" or self.read is None:
            return
        change = self.read.changes.files[int(str(event.row_key.value))]
        patch = self.query_one("#patch", PatchView)
        line = patch.line_of(change.path)
        if line is None:
            self._say(Text(f"{printable(change.path)} is not in the patch (cut, or named unusually)"), error=True)
            return
        patch.scroll_to(0, line, animate=False)
        patch.focus()

    # -- fetch -----------------------------------------------------------------------------------
    def action_fetch(self) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

        read, services = self.read, self.services
        if read is None or services is None or services.changes is None:
            self._say(Text("the changes are still being read: fetch once they show"), error=True)
            return
        if self.fetching:
            return
        changes = read.changes
        if not read.into:
            self._say(Text(f"fetch: {one_line(read.into_problem)}; fetch it with "
                           f"symposium-tui fetch {self.taskspace} --into PATH"), error=True)
            return
        if not changes.tip:
            self._say(Text(f"fetch: the branch {printable(changes.branch)} is gone from {self.taskspace}: "
                           "nothing to fetch"), error=True)
            return
        branch, into = printable(changes.branch), printable(read.into)
        question = (f"Fetch the branch {branch} of {self.taskspace} into {into}?\n\n"
                    f"{branch} there is made, or moved forward, to {changes.tip[:12]}: "
                    f"{changes.commit_count} commit(s) since the start {changes.start[:12]}. "
                    "Nothing there is checked out or merged.")
        if changes.uncommitted:
            question += (f"\n\n{len(changes.uncommitted)} uncommitted change(s) stay in the taskspace "
                         "(commit them there to bring them).")

        def answered(yes: bool | None) -> None:
            if yes:
                self.fetching = True
                self._say(Text(f"fetching {branch} into {into}…", style="italic"), error=False)
                self.run_fetch(services)
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, group="changes-fetch", exit_on_error=False)
    def run_fetch(self, services: HostSession) -> None:
        try:
            with services.own_read(self.taskspace):
                outcome = services.changes.fetch(self.taskspace)
        except SymposiumError as exc:
            word = "refused" if isinstance(exc, UsageError) else "failed"
            lines = [f"fetch {word}: {one_line(exc.message)}"] + ([one_line(exc.hint)] if exc.hint else [])
            self.app.call_from_thread(self._fetched, lines, True)
            return
        except BaseException:
            self.app.call_from_thread(self._fetched, ["fetch failed (see the notification)"], True)
            raise
        self.app.call_from_thread(self._fetched, outcome.describe(), False)

    def _fetched(self, lines: list[str], failed: bool) -> None:
        self.fetching = False
        if not self.is_attached:  # closed meanwhile: said where it can still be seen
            self.app.notify(f"{self.taskspace}: " + " ".join(lines), severity="error" if failed else "information",
                            timeout=10)
            return
        self._say(Text("\n".join(lines)), error=failed)

    def _say(self, text: Text, *, error: bool) -> None:
        outcome = self.query_one("#changes-outcome", Static)
        outcome.update(text)
        outcome.set_class(error, "-error")
        outcome.display = True
