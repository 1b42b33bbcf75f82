"""The taskspace list: one row per taskspace as a unit, refreshed by the poller."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from rich.text import Text
from textual.widgets import DataTable, Footer, Header, Input, Static

from symposium_tui.core import display as fmt
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus

COLUMNS = ("ID", "PROJECT", "HEALTH", "TIER", "NET", "DEV", "AGENT", "CPU", "MEMORY", "CPU 20s", "ACTIVITY")
WIDTHS = {"HEALTH": 9, "TIER": 8, "NET": 5, "DEV": 5, "AGENT": 5, "CPU": 4, "MEMORY": 10, "CPU 20s": 10,
          "ACTIVITY": 16}
NET_SHORT = {"isolated": "isol", "restricted": "restr", "open": "open"}  # the security level
HEALTH_STYLE = {"healthy": "green", "degraded": "yellow", "down": "red", "creating": "cyan",
                "stopped": "dim", "gone from engine": "magenta"}


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("enter", "app.details", "Details"),
        Binding("slash", "filter", "Filter"),
        Binding("l", "app.logs", "Logs"),
        Binding("n", "app.create", "New"),
        Binding("a", "app.adjust", "Adjust"),
        Binding("w", "app.security", "Security", show=False),
        Binding("C", "app.cleanup", "Cleanup"),
        Binding("s", "app.ssh('dev')", "SSH dev", show=False),
        Binding("S", "app.ssh('agent')", "SSH agent", show=False),
        Binding("r", "app.restart", "Restart", show=False),
        Binding("x", "app.stop", "Stop", show=False),
        Binding("g", "app.start", "Start", show=False),
        Binding("d", "app.remove", "Remove", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, TaskspaceStatus] = {}
        self._shown: dict[str, tuple[str, ...]] = {}  # the cells on screen, per row
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.app.engine_text, id="engine-status")
        table: DataTable[str] = DataTable(id="taskspaces", cursor_type="row", zebra_stripes=True)
        for column in COLUMNS:
            # Fixed widths where values change every tick: a cell never outgrows its column.
            table.add_column(column, key=column, width=WIDTHS.get(column))
        yield table
        yield Static("No taskspaces yet. Press n to create one.", id="empty-hint")
        yield Static("", id="selected")
        yield Input(placeholder="filter by id, project, health…", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        if self.app.snapshot is not None:
            self.show_snapshot(self.app.snapshot)

    def on_screen_resume(self) -> None:
        if self.app.snapshot is not None:
            self.show_snapshot(self.app.snapshot)

    def key_help(self) -> list[tuple[str, str]]:
        keys = [("j / k, ↑ / ↓", "move"), ("enter", "details and live stats"), ("/", "filter"),
                ("l", "logs"), ("s / S", "SSH into dev / agent"), ("n", "create a taskspace"),
                ("a", "adjust resources"), ("w", "network security level (asks first)"),
                ("C", "cleanup preview"), ("r", "restart"), ("x", "stop"), ("g", "start"),
                ("d", "remove (asks first)")]
        mutating = {"n", "a", "w", "C", "r", "x", "g", "d"}
        return [k for k in keys if not (self.app.read_only and k[0] in mutating)]

    # -- engine and rows -------------------------------------------------------------------------
    def show_engine(self, text: str, *, ok: bool) -> None:
        status = self.query_one("#engine-status", Static)
        status.update(text)
        status.set_class(not ok, "-error")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.rows = {t.id: t for t in snapshot.taskspaces}
        self.gone = list(snapshot.registry_only)
        self._render_rows()

    def _cells(self, status: TaskspaceStatus) -> tuple[Text, ...]:
        """Rich Text, not markup strings: the table re-renders every visible cell on each change,
        and would parse markup each time."""
        return tuple(cell if isinstance(cell, Text) else Text(cell) for cell in self._texts(status))

    def _texts(self, status: TaskspaceStatus) -> tuple[str | Text, ...]:
        history = getattr(self.app.services, "poller", None)
        cpu_values = []
        if history is not None:
            names = [c.name for c in status.containers.values()]
            series = [history.history.samples(n) for n in names]
            length = max((len(s) for s in series), default=0)
            for i in range(length):
                cpu_values.append(sum(s[i - length + len(s)].cpu_percent for s in series
                                      if i - length + len(s) >= 0))
        health = status.health.state.value
        style = HEALTH_STYLE.get(health, "")
        flag = "!" if status.storage is not None and status.storage.over else ""
        return (status.id, status.project or "-", Text(health, style=style) + flag,
                status.tier or "-", NET_SHORT.get(status.security, status.security or "-"),
                str(status.dev_port or "-"), str(status.agent_port or "-"),
                fmt.percent(status.cpu_percent), fmt.memory(status.mem_bytes, status.mem_limit),
                fmt.sparkline(cpu_values[-10:], width=10), fmt.ago(status.last_activity))

    def _render_rows(self) -> None:
        table = self.query_one("#taskspaces", DataTable)
        wanted = [t for t in self.rows.values() if self._matches(t)]
        keys = [t.id for t in wanted] + [f"gone:{g}" for g in getattr(self, "gone", []) if self._matches_text(g)]
        selected = self.selected_id()
        current = [str(k.value) for k in table.rows]
        if current == keys:
            for status in wanted:  # only what changed: every cell update repaints the table
                cells, before = self._cells(status), self._shown.get(status.id, ())
                for index, (column, value) in enumerate(zip(COLUMNS, cells)):
                    if index >= len(before) or before[index] != value:
                        table.update_cell(status.id, column, value)
                self._shown[status.id] = cells
        else:
            table.clear()
            self._shown = {}
            for status in wanted:
                self._shown[status.id] = self._cells(status)
                table.add_row(*self._shown[status.id], key=status.id)
            for gone in getattr(self, "gone", []):
                if self._matches_text(gone):
                    table.add_row(gone, "-", Text("gone", style="magenta"), *["-"] * (len(COLUMNS) - 3),
                                  key=f"gone:{gone}")
            if selected in keys:
                table.move_cursor(row=keys.index(selected))
        hint = self.query_one("#empty-hint", Static)
        if hint.display != (not keys):
            hint.display = not keys
        self._describe_selected()

    def _describe_selected(self) -> None:
        """The selected row's whole story: reasons are too long for a column at 80×24."""
        taskspace = self.selected_id()
        line = ""
        if taskspace in self.rows:
            status = self.rows[taskspace]
            line = f"{taskspace}: {status.health}"
            if status.storage is not None:
                line += f" · storage {status.storage.describe()}"
        elif taskspace:
            line = f"{taskspace}: in the registry but gone from the engine (drift); `ls` reconciles it"
        if line != getattr(self, "_selected_line", None):  # an update lays the screen out again
            self._selected_line = line
            self.query_one("#selected", Static).update(line)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe_selected()

    def _matches_text(self, text: str) -> bool:
        return not self.filter_text or self.filter_text in text.lower()

    def _matches(self, status: TaskspaceStatus) -> bool:
        return self._matches_text(f"{status.id} {status.project} {status.health} {status.tier}")

    def selected_id(self) -> str | None:
        table = self.query_one("#taskspaces", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key).removeprefix("gone:") if key else None

    # -- keys ------------------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.query_one("#taskspaces", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#taskspaces", DataTable).action_cursor_up()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
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
