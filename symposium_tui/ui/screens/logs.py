"""Logs of the agent or dev container: the last lines at once, then live output."""

from __future__ import annotations

import re

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, RichLog, Static
from textual.worker import get_current_worker

from symposium_tui.core.errors import SymposiumError
from symposium_tui.ui.screens.onhost import OnHost

TAIL = 500


class LogsScreen(OnHost, Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("tab", "switch", "Agent/dev"),
        Binding("slash", "search", "Search"),
        Binding("p", "pause", "Pause"),
        Binding("t", "timestamps", "Timestamps"),
    ]

    def __init__(self, taskspace: str, role: str = "dev") -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace
        self.role = role
        self.lines: list[str] = []
        self.pattern = ""
        self.paused = False
        self.timestamps = False
        self._stream = None
        self.generation = 0  # lines from an older follow (before tab or t) are dropped

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="logs-title")
        yield RichLog(id="log", max_lines=5000, wrap=False, markup=False)
        yield Input(placeholder="search (regular expression)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.load()

    @property
    def container(self) -> str:
        return f"taskspace-{self.taskspace}-{self.role}"

    def _title(self) -> None:
        flags = [f"follow{' (paused)' if self.paused else ''}", "timestamps" if self.timestamps else ""]
        search = f" · search /{self.pattern}/" if self.pattern else ""
        self.query_one("#logs-title", Static).update(
            f"{self.taskspace} · {self.role} · {' · '.join(f for f in flags if f)}{search}")

    def load(self) -> None:
        self._stop_stream()
        self.generation += 1
        self.lines = []
        self.query_one("#log", RichLog).clear()
        self._title()
        if self.services is None:
            self.add_lines(["[not connected to podman yet]"])
            return
        self.follow(self.container, self.timestamps, self.generation)

    @work(thread=True, exclusive=True, group="logs", exit_on_error=False)
    def follow(self, container: str, timestamps: bool, generation: int) -> None:
        import time

        engine = self.services.connection.engine
        worker = get_current_worker()
        try:
            lines = engine.logs(container, tail=TAIL, timestamps=timestamps)
            since = time.time()
            self.app.call_from_thread(self.add_lines, lines, generation)
            stream = engine.follow_logs(container, since=since, timestamps=timestamps)
        except SymposiumError as exc:
            self.app.call_from_thread(self.add_lines, [f"[cannot read logs: {exc.message}]"], generation)
            return
        self._stream = stream
        if worker.is_cancelled:
            stream.close()
            return
        try:
            for line in stream:
                self.app.call_from_thread(self.add_lines, [line], generation)
        except SymposiumError as exc:
            if not worker.is_cancelled and not stream.closed:
                self.app.call_from_thread(self.add_lines, [f"[log stream ended: {exc.message}]"], generation)

    def add_lines(self, lines: list[str], generation: int | None = None) -> None:
        if generation is not None and generation != self.generation:
            return
        self.lines.extend(lines)
        log = self.query_one("#log", RichLog)
        for line in lines:
            log.write(self._styled(line), scroll_end=not self.paused)

    def _styled(self, line: str) -> Text:
        text = Text(line)
        if self.pattern:
            try:
                text.highlight_regex(self.pattern, style="black on yellow")
            except re.error:
                pass
        return text

    def _stop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.workers.cancel_group(self, "logs")

    def on_unmount(self) -> None:
        self._stop_stream()

    def action_back(self) -> None:
        self._stop_stream()
        self.app.pop_screen()

    def action_switch(self) -> None:
        self.role = "agent" if self.role == "dev" else "dev"
        self.load()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.query_one("#log", RichLog).auto_scroll = not self.paused
        self._title()

    def action_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self.load()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.pattern = event.value
        event.input.display = False
        log = self.query_one("#log", RichLog)
        log.clear()
        for line in self.lines[-5000:]:
            log.write(self._styled(line), scroll_end=not self.paused)
        self._title()
        log.focus()
