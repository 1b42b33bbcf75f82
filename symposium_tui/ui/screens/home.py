"""The taskspace list: one row per taskspace as a unit, refreshed by the poller."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from rich.text import Text
from textual.widgets import DataTable, Footer, Header, Input, Static

from symposium_tui.core import display as fmt
from symposium_tui.core.services.poller import TaskspaceStatus

COLUMNS = ("ID", "PROJECT", "HEALTH", "TIER", "NET", "DEV", "AGENT", "CPU", "MEMORY", "CPU 20s", "ACTIVITY")
WIDTHS = {"HEALTH": 9, "TIER": 8, "NET": 5, "DEV": 5, "AGENT": 5, "CPU": 4, "MEMORY": 10, "CPU 20s": 10,
          "ACTIVITY": 16}
NET_SHORT = {"isolated": "isol", "restricted": "restr", "open": "open"}  # the security level
HEALTH_STYLE = {"healthy": "green", "degraded": "yellow", "down": "red", "creating": "cyan",
                "stopped": "dim", "gone from engine": "magenta", "host down": "bold red"}


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
        self.rows: dict[str, tuple[str, TaskspaceStatus]] = {}  # "host/id" -> (host, status)
        self.gone: list[tuple[str, str]] = []  # (host, id) in a registry, gone from its engine
        self._shown: dict[str, tuple[Text, ...]] = {}  # the cells on screen, per row
        self.filter_text = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return ("HOST", *COLUMNS) if self.app.several_hosts else COLUMNS

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.app.engine_text, id="engine-status")
        table: DataTable[str] = DataTable(id="taskspaces", cursor_type="row", zebra_stripes=True)
        for column in self.columns:
            # Fixed widths where values change every tick: a cell never outgrows its column.
            table.add_column(column, key=column, width=WIDTHS.get(column))
        yield table
        yield Static("No taskspaces yet. Press n to create one.", id="empty-hint")
        yield Static("", id="selected")
        yield Input(placeholder="filter by id, project, health…", id="filter")
        # With several hosts `H` joins the footer; compact keeps every key whole at 80 columns.
        yield Footer(compact=getattr(self.app, "several_hosts", False))

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.show_hosts()

    def on_screen_resume(self) -> None:
        self.show_hosts()

    def key_help(self) -> list[tuple[str, str]]:
        keys = [("j / k, ↑ / ↓", "move"), ("enter", "details and live stats"), ("/", "filter"),
                ("l", "logs"), ("s / S", "SSH into dev / agent"), ("n", "create a taskspace"),
                ("a", "adjust resources"), ("w", "network security level (asks first)"),
                ("C", "cleanup preview"), ("r", "restart"), ("x", "stop"), ("g", "start"),
                ("d", "remove (asks first)")]
        if self.app.several_hosts:
            keys.append(("H", "hosts: one host's list, or all hosts with a HOST column"))
        mutating = {"n", "a", "w", "C", "r", "x", "g", "d"}
        return [k for k in keys if not (self.app.read_only and k[0] in mutating)]

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
        self._render_rows()

    def _cells(self, host: str, status: TaskspaceStatus) -> tuple[Text, ...]:
        """Rich Text, not markup strings: the table re-renders every visible cell on each change,
        and would parse markup each time."""
        texts = self._texts(host, status)
        if self.app.several_hosts:
            texts = (host, *texts)
        return tuple(cell if isinstance(cell, Text) else Text(cell) for cell in texts)

    def _texts(self, host: str, status: TaskspaceStatus) -> tuple[str | Text, ...]:
        history = getattr(self.app.services_for(host), "poller", None)
        cpu_values = []
        if history is not None:
            names = [c.name for c in status.containers.values()]
            series = [history.history.samples(n) for n in names]
            length = max((len(s) for s in series), default=0)
            for i in range(length):
                cpu_values.append(sum(s[i - length + len(s)].cpu_percent for s in series
                                      if i - length + len(s) >= 0))
        health = status.health.state.value
        if host in getattr(self, "down", ()):
            health = "host down"  # its last known rows stay, marked: the host does not answer
        style = HEALTH_STYLE.get(health, "")
        flag = "!" if status.storage is not None and status.storage.over else ""
        return (status.id, status.project or "-", Text(health, style=style) + flag,
                status.tier or "-", NET_SHORT.get(status.security, status.security or "-"),
                str(status.dev_port or "-"), str(status.agent_port or "-"),
                fmt.percent(status.cpu_percent), fmt.memory(status.mem_bytes, status.mem_limit),
                fmt.sparkline(cpu_values[-10:], width=10), fmt.ago(status.last_activity))

    def _render_rows(self) -> None:
        table = self.query_one("#taskspaces", DataTable)
        columns = self.columns
        if [str(c.value) for c in table.columns] != list(columns):
            table.clear(columns=True)  # hosts were added: the HOST column comes or goes
            for column in columns:
                table.add_column(column, key=column, width=WIDTHS.get(column))
        wanted = {key: row for key, row in self.rows.items() if self._matches(row[1])}
        gone = [(host, g) for host, g in self.gone if self._matches_text(g)]
        keys = list(wanted) + [f"gone:{host}/{g}" for host, g in gone]
        selected = self._selected_key()
        current = [str(k.value) for k in table.rows]
        if current == keys:
            for key, (host, status) in wanted.items():  # only what changed: each update repaints
                cells, before = self._cells(host, status), self._shown.get(key, ())
                for index, (column, value) in enumerate(zip(columns, cells)):
                    if index >= len(before) or before[index] != value:
                        table.update_cell(key, column, value)
                self._shown[key] = cells
        else:
            table.clear()
            self._shown = {}
            for key, (host, status) in wanted.items():
                self._shown[key] = self._cells(host, status)
                table.add_row(*self._shown[key], key=key)
            lead = 1 if self.app.several_hosts else 0
            for host, g in gone:
                cells = [host] * lead + [g, "-", Text("gone", style="magenta")]
                table.add_row(*cells, *["-"] * (len(columns) - len(cells)), key=f"gone:{host}/{g}")
            if selected in keys:
                table.move_cursor(row=keys.index(selected))
        hint = self.query_one("#empty-hint", Static)
        if hint.display != (not keys):
            hint.display = not keys
        self._describe_selected()

    def _describe_selected(self) -> None:
        """The selected row's whole story: reasons are too long for a column at 80×24."""
        key = self._selected_key()
        line = ""
        if key in self.rows:
            host, status = self.rows[key]
            line = f"{status.id}: {status.health}"
            if self.app.several_hosts:
                line = f"{status.id} on {host}: {status.health}"
            if host in getattr(self, "down", ()):
                line = f"{status.id}: {host} does not answer; its last known state is shown"
            if status.storage is not None:
                line += f" · storage {status.storage.describe()}"
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
