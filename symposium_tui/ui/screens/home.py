"""The taskspace list: one row per taskspace as a unit, refreshed by the poller."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from rich.text import Text
from textual.widgets import DataTable, Footer, Header, Input, Static

from symposium_tui.core.columns import Column, RowFacts, cell_text, columns_of
from symposium_tui.core.services.poller import TaskspaceStatus
from symposium_tui.ui import columns as fitting
from symposium_tui.ui.keys import allowed
from symposium_tui.ui.widgets.live_table import LiveTable

ROWS_AROUND = 5  # the screen's rows that are not the table's: header, status, selected, footer, column names
HEALTH_ORDER = {"down": 0, "degraded": 1, "creating": 2, "healthy": 3, "stopped": 4}


def _activity(status: TaskspaceStatus) -> str:
    return status.last_activity or ""


# The list's orders (`o` goes to the next; kept in ui.json): (name, key, newest/highest first).
# "attention" is the list as the engine gives it, agents waiting for the person first.
SORTS: dict[str, tuple] = {
    "attention": (lambda s: not s.agent.needs_attention, False),
    "id": (lambda s: s.id, False),
    "cpu": (lambda s: -1.0 if s.cpu_percent is None else s.cpu_percent, True),
    "memory": (lambda s: -1 if s.mem_bytes is None else s.mem_bytes, True),
    "activity": (_activity, True),
    "health": (lambda s: HEALTH_ORDER.get(s.health.state.value, 9), False),
}


class HomeScreen(Screen[None]):
    HELP_TITLE = "The taskspace list"
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("enter", "app.details", "Details"),
        Binding("slash", "filter", "Filter"),
        Binding("l", "app.logs", "Logs"),
        Binding("D", "app.changes", "Changes"),
        Binding("n", "app.create", "New"),
        Binding("a", "app.adjust", "Adjust"),
        Binding("w", "app.security", "Security", show=False),
        Binding("C", "app.cleanup", "Cleanup"),
        Binding("s", "app.ssh('dev')", "SSH dev", show=False),
        Binding("S", "app.ssh('agent')", "SSH agent", show=False),
        Binding("e", "app.exec('dev')", "Shell (engine)", show=False),
        Binding("E", "app.exec('agent')", "Agent shell (engine)", show=False),
        Binding("p", "app.forward", "Forward a port", show=False),
        Binding("c", "app.copy", "Copy files", show=False),
        Binding("t", "app.attach", "Talk", show=False),
        Binding("A", "app.seen", "Seen", show=False),
        Binding("r", "app.restart", "Restart", show=False),
        Binding("x", "app.stop", "Stop", show=False),
        Binding("g", "app.start", "Start", show=False),
        Binding("d", "app.remove", "Remove", show=False),
        Binding("o", "app.sort", "Sort", show=False),
        Binding("space", "mark", "Mark", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, TaskspaceStatus]] = {}  # "host/id" -> (host, status)
        self.gone: list[tuple[str, str]] = []  # (host, id) in a registry, gone from its engine
        self.down: set[str] = set()  # hosts that do not answer: their last known rows stay, marked
        self.marked: set[str] = set()  # rows marked with space, for stop / start / restart together
        self._shown: dict[str, dict[str, Text]] = {}  # the cells on screen, per row
        self._layout: tuple[tuple[str, ...], tuple[int, ...]] = ((), ())  # columns shown, their widths
        # Set when the cursor went to a neighbour because its row was gone (for now): (the row it
        # went to, the row it was on). While the person leaves it there, it goes back when the row
        # comes back (a pod made again by a security change is gone for a tick or two).
        self._stand_in: tuple[str, str] | None = None
        self.filter_text = ""

    @property
    def columns(self) -> tuple[Column, ...]:
        return columns_of("dashboard", self.app.several_hosts)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.app.engine_text, id="engine-status", markup=False)
        yield LiveTable(id="taskspaces", cursor_type="row", zebra_stripes=True)  # columns: _fit_columns
        yield Static("No taskspaces yet. Press n to create one.", id="empty-hint")
        yield Static("", id="selected", markup=False)
        yield Input(placeholder="filter by id, project, health…", id="filter")
        # Compact keeps every key whole at 80 columns; with several hosts `H` joins them, and the
        # palette's ctrl+p (also in `?`) leaves its place to it.
        several = getattr(self.app, "several_hosts", False)
        yield Footer(compact=True, show_command_palette=not several)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.show_hosts()

    def on_screen_resume(self) -> None:
        self.show_hosts()

    def on_resize(self) -> None:
        if self.is_mounted:
            self._render_rows()  # the columns that fit change with the width

    def key_help(self) -> list[tuple[str, str]]:
        cleanup = "cleanup preview (a dry run" + (": read-only, no Apply)" if self.app.read_only else ")")
        return allowed(self.app, [
            ("j / k, ↑ / ↓", "move", "cursor_down"), ("enter", "details and live stats", "app.details"),
            ("/", "filter (escape clears)", "filter"), ("l", "logs", "app.logs"),
            ("D", "its changes: files, commits, the patch" + ("" if self.app.read_only else "; fetch"),
             "app.changes"),
            ("s / S", "SSH into dev / agent", "app.ssh"),
            ("e / E", "a shell in dev / agent through the engine (no SSH)", "app.exec"),
            ("p", "forward a port inside to 127.0.0.1 here (while this runs)", "app.forward"),
            ("c", "copy files in or out (running or stopped)", "app.copy"),
            ("o", "sort: attention, id, CPU, memory, activity, health (kept)", "app.sort"),
            ("space", "mark / unmark: x, g, r, d then act on all marked", "mark"),
            ("t", "talk to the agent: attach (Ctrl-b d comes back)", "app.attach"),
            ("A", "mark what the agent asked for as seen", "app.seen"), ("n", "create a taskspace", "app.create"),
            ("a", "adjust resources", "app.adjust"), ("w", "network security level (asks first)", "app.security"),
            ("C", cleanup, "app.cleanup"), ("r", "restart", "app.restart"), ("x", "stop", "app.stop"),
            ("g", "start", "app.start"), ("d", "remove (asks first)", "app.remove")])

    # -- engine and rows -------------------------------------------------------------------------
    def show_engine(self, text: str, *, ok: bool) -> None:
        if not self.is_mounted:
            return  # composed on mount, with the app's text of then
        status = self.query_one("#engine-status", Static)
        status.update(text)
        status.set_class(not ok, "-error")

    def show_hosts(self) -> None:
        """The rows of the host in view, or of every host: from each host's latest snapshot."""
        if not self.is_mounted:
            return  # on_mount shows them
        view = self.app.view
        self.rows, self.gone = {}, []
        self.down = {name for name, state in self.app.hosts.items()
                     if state.snapshot is not None and state.snapshot.engine_error}
        for name, state in self.app.hosts.items():
            if state.snapshot is None or view not in (None, name):
                continue
            for status in state.snapshot.taskspaces:
                self.rows[f"{name}/{status.id}"] = (name, status)
            self.gone += [(name, gone) for gone in state.snapshot.registry_only]
        key, reverse = SORTS.get(self.sort, SORTS["attention"])
        if self.sort == "attention":  # agents waiting for the person first (the list's own order otherwise)
            self.rows = dict(sorted(self.rows.items(), key=lambda item: key(item[1][1])))
        else:  # ties by id, always ascending
            by_id = sorted(self.rows.items(), key=lambda item: item[1][1].id)
            self.rows = dict(sorted(by_id, key=lambda item: key(item[1][1]), reverse=reverse))
        self._render_rows()

    @property
    def sort(self) -> str:
        if not hasattr(self, "_sort"):
            from symposium_tui.ui.preferences import load_preferences

            saved = load_preferences().get("sort")
            self._sort = saved if saved in SORTS else "attention"
        return self._sort

    def action_sort(self) -> None:
        """The list in the next order (attention, id, CPU, memory, activity, health), kept."""
        from symposium_tui.ui.preferences import save_preference

        names = list(SORTS)
        self._sort = names[(names.index(self.sort) + 1) % len(names)]
        failed = save_preference("sort", self._sort)
        self.notify(f"sorted by {self._sort}" + ("" if self._sort in ("attention", "id", "health") else
                                                 ", highest first")
                    + (f" (not kept: {failed})" if failed else ""), timeout=3)
        self.show_hosts()

    def _cells(self, host: str, status: TaskspaceStatus, columns: tuple[Column, ...]) -> dict[str, Text]:
        """Rich Text, not markup strings: the table re-renders every visible cell on each change,
        and would parse markup each time (and ids and projects are not ours to interpret)."""
        state = self.app.hosts.get(host)
        changes = state.changes.text(status.id) if state is not None else None
        made = state.cells.get(status.id) if state is not None and host not in self.down else None
        if made is None or any(c.header not in made for c in columns if c.header not in fitting.UI_STATE):
            return fitting.row_cells(status, host, state.stats if state is not None else {}, columns,
                                     host_down=host in self.down, changes=changes)
        cells = {c.header: made[c.header] for c in columns if c.header not in fitting.UI_STATE}
        own = RowFacts(id=status.id, changes=changes)  # the UI's own cells, made here
        cells |= {c.header: Text(cell_text(c, own)) for c in columns if c.header in fitting.UI_STATE}
        return cells

    def _gone_cells(self, host: str, taskspace: str, columns: tuple[Column, ...]) -> dict[str, Text]:
        cells = {column.header: Text("-") for column in columns}
        cells.update(HOST=Text(host), ID=Text(taskspace), HEALTH=Text("gone", style="magenta"))
        return cells

    def show_row(self, host: str, taskspace: str) -> None:
        """One row's cells again (its CHANGES were read): the others, and the layout, untouched.
        Drawing every row for each of 50 reads was most of the dashboard's CPU while it read them."""
        key = f"{host}/{taskspace}"
        if not self.is_mounted or key not in self.rows or key not in self._shown:
            return
        cells = self._cells(host, self.rows[key][1], self.columns)
        if key in self.marked:
            cells["ID"] = Text("✓ ", style="bold yellow") + cells["ID"]
        table = self.query_one("#taskspaces", LiveTable)
        if not any(str(k.value) == key for k in table.rows):
            return  # filtered out
        previous = self._shown[key]
        changed = {column: cells[column] for column in self._layout[0] if previous.get(column) != cells[column]}
        self._shown[key] = cells
        table.update_cells({key: changed})

    def _render_rows(self) -> None:
        try:
            table = self.query_one("#taskspaces", LiveTable)
        except NoMatches:
            return  # a snapshot that came while the app is closing: its widgets are gone
        columns = self.columns
        rows = {key: self._cells(host, status, columns) for key, (host, status) in self.rows.items()
                if self._matches(status)}
        rows |= {f"gone:{host}/{g}": self._gone_cells(host, g, columns) for host, g in self.gone
                 if self._matches_text(g)}
        self.marked &= set(rows)
        for key in self.marked:  # a mark before the id; stop / start / restart act on them all
            rows[key] = rows[key] | {"ID": Text("✓ ", style="bold yellow") + rows[key]["ID"]}
        keys = list(rows)
        before, before_index = self._selected_key(), table.cursor_row
        if self._fit_columns(table, rows, columns):
            self._shown = {}
        shown = self._layout[0]
        if [str(k.value) for k in table.rows] == keys:
            changes = {}  # only what changed, and only those rows are drawn again
            for key, cells in rows.items():
                previous = self._shown.get(key, {})
                changes[key] = {column: cells[column] for column in shown if previous.get(column) != cells[column]}
                self._shown[key] = cells
            table.update_cells(changes)
        else:
            table.clear()
            self._shown = rows
            for key, cells in rows.items():
                table.add_row(*(cells[column] for column in shown), key=key)
            self._place_cursor(table, keys, before, before_index)
        hint = self.query_one("#empty-hint", Static)
        if hint.display != (not keys):
            hint.display = not keys
        self._describe_selected()

    def _fit_columns(self, table: DataTable, rows: dict[str, dict[str, Text]],
                     columns: tuple[Column, ...]) -> bool:
        """Lay the columns out for the width there is; True when they changed (rows cleared)."""
        values = {c.header: [cells[c.header].plain for cells in rows.values()] for c in columns if c.width is None}
        widths = fitting.natural_widths(columns, values)
        available = self.size.width or self.app.size.width
        if len(rows) > max(self.size.height - ROWS_AROUND, 1):
            available -= table.styles.scrollbar_size_vertical  # the vertical scrollbar takes its share
        shown = tuple(fitting.fit([c.header for c in columns], widths, available))
        widths = fitting.grow(columns, shown, widths, values, available)
        layout = (shown, tuple(widths[c] for c in shown))
        if layout == self._layout:
            return False
        table.clear(columns=True)
        for column, width in zip(*layout):
            table.add_column(column, key=column, width=width)
        self._layout = layout
        return True

    def _place_cursor(self, table: DataTable, keys: list[str], before: str | None,
                      before_index: int) -> None:
        """On the row it was on, wherever that row is now; on its neighbour when it is gone."""
        if before is None or not keys:
            return
        wanted = before.removeprefix("gone:")  # a row that went from the engine is the same row
        if self._stand_in is not None and self._stand_in[0] == before:
            wanted = self._stand_in[1]  # still where it was put: the row it stands in for counts
        same = [k.removeprefix("gone:") for k in keys]
        if wanted in same:
            row, self._stand_in = same.index(wanted), None
        else:
            row = min(before_index, len(keys) - 1)  # the row that took its place, or the last
            self._stand_in = (keys[row], wanted)
        table.move_cursor(row=row, animate=False)

    def _describe_selected(self) -> None:
        """The selected row's whole story: reasons are too long for a column at 80×24."""
        key = self._selected_key()
        line = ""
        if key in self.rows:
            host, status = self.rows[key]
            line = f"{status.id}: {status.health}"
            if self.app.several_hosts:
                line = f"{status.id} on {host}: {status.health}"
            if host in self.down:
                line = f"{status.id}: {host} does not answer; its last known state is shown"
            if status.storage is not None:
                line += f" · storage {status.storage.describe()}"
            if status.agent.state != "none" or status.agent.message:
                line += f" · agent {status.agent.text()}"
        elif key:
            line = f"{self.selected_id()}: in the registry but gone from the engine (drift); `ls` reconciles it"
        if line != getattr(self, "_selected_line", None):  # an update lays the screen out again
            self._selected_line = line
            self.query_one("#selected", Static).update(line)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe_selected()

    def _matches_text(self, text: str) -> bool:
        return not self.filter_text or self.filter_text in text.lower()

    def _matches(self, status: TaskspaceStatus) -> bool:
        return self._matches_text(f"{status.id} {status.project} {status.health} {status.tier}")

    def _selected_key(self) -> str | None:
        table = self.query_one("#taskspaces", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key else None

    def selected_id(self) -> str | None:
        key = self._selected_key()
        return key.removeprefix("gone:").split("/", 1)[1] if key else None

    def selected_host(self) -> str | None:
        key = self._selected_key()
        return key.removeprefix("gone:").split("/", 1)[0] if key else None

    # -- keys ------------------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.query_one("#taskspaces", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#taskspaces", DataTable).action_cursor_up()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_mark(self) -> None:
        key = self._selected_key()
        if key is None or key not in self.rows:
            return
        self.marked ^= {key}
        self._render_rows()
        self.query_one("#taskspaces", DataTable).action_cursor_down()

    def marked_rows(self) -> list[tuple[str, str]]:
        """(host, id) of the marked rows, in the list's order."""
        return [(self.rows[key][0], self.rows[key][1].id) for key in self.rows if key in self.marked]

    def action_clear_filter(self) -> None:
        if self.marked:
            self.marked = set()
            self._render_rows()
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_one("#taskspaces", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value.strip().lower()
            self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one("#taskspaces", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.action_details()
