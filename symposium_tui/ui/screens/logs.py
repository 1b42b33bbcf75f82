"""Logs of the agent or dev container: the last lines at once, then live output; older lines on
request; a search that counts its matches and walks them."""

from __future__ import annotations

import re
import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, RichLog, Static
from textual.worker import Worker, get_current_worker

from symposium_tui.core.errors import SymposiumError
from symposium_tui.ui.screens.onhost import OnHost

TAIL = 500  # lines read at once, and again each time older ones are asked for
MAX_LINES = 20_000  # kept on screen; older ones go as new ones come
ALIGN = 50  # lines compared to find where the already shown ones start in a longer tail
MATCH_STYLE = "black on yellow"


def compile_search(pattern: str) -> tuple[re.Pattern[str], bool]:
    """(the pattern, whether it was taken as plain text: it is not a regular expression).
    Lower case only: matches either case (as less and vim's smartcase)."""
    flags = 0 if pattern != pattern.lower() else re.IGNORECASE
    try:
        return re.compile(pattern, flags), False
    except re.error:
        return re.compile(re.escape(pattern), flags), True


def older_part(fetched: list[str], shown: list[str]) -> list[str]:
    """What a longer tail (`fetched`) holds before the lines already shown. The tail may also end
    with lines printed since the last ones shown; the shown ones are found by their first lines,
    searching from where they would start without any."""
    if not shown:
        return fetched
    head = shown[:ALIGN]
    start = len(fetched) - len(shown)
    for at in range(start, max(start - TAIL, -1), -1):
        if at >= 0 and fetched[at:at + len(head)] == head:
            return fetched[:at]
    return fetched[:max(start, 0)]


class LogsScreen(OnHost, Screen[None]):
    HELP_TITLE = "Logs"
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("tab", "switch", "Agent/dev"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match", "Next", show=False),
        Binding("N", "previous_match", "Previous", show=False),
        Binding("o", "older", "Older"),
        Binding("p", "pause", "Pause"),
        Binding("t", "timestamps", "Timestamps"),
    ]

    def __init__(self, taskspace: str, role: str = "dev") -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace
        self.role = role
        self.lines: list[str] = []  # what the container printed, as shown
        self.pattern = ""
        self.search: re.Pattern[str] | None = None
        self.as_text = False
        self.matches: list[int] = []  # indexes into lines
        self.current = -1  # which match the view is on
        self.paused = False
        self.timestamps = False
        self.loading_older = False
        self.at_start = False  # the engine has nothing older than the first line
        self._stream = None
        self.generation = 0  # lines from an older follow (before tab or t) are dropped

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="logs-title", markup=False)
        yield RichLog(id="log", max_lines=MAX_LINES, wrap=False, markup=False)
        yield Input(placeholder="search (regular expression; lower case matches either case)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.load()

    def key_help(self) -> list[tuple[str, str]]:
        return [("tab", "agent / dev"), ("/", "search (enter: go; escape: close the box)"),
                ("n / N", "next / previous match (pauses following)"),
                ("o", f"{TAIL} older lines from the engine"), ("p", "pause / follow"), ("t", "timestamps"),
                ("↑ ↓ pgup pgdn", "scroll"), ("escape / q", "back")]

    @property
    def container(self) -> str:
        return f"taskspace-{self.taskspace}-{self.role}"

    def _title(self) -> None:
        flags = [f"follow{' (paused)' if self.paused else ''}", "timestamps" if self.timestamps else "",
                 f"{len(self.lines)} lines" + (" (from the start)" if self.at_start else "")]
        text = f"{self.taskspace} · {self.role} · {' · '.join(f for f in flags if f)}"
        if self.pattern:
            found = (f"match {self.current + 1}/{len(self.matches)} (line {self.matches[self.current] + 1})"
                     if self.matches else "no match")
            text += f" · search /{self.pattern}/{' as text' if self.as_text else ''}: {found}"
        self.query_one("#logs-title", Static).update(text)

    # -- reading ---------------------------------------------------------------------------------
    def load(self) -> None:
        self._stop_stream()
        self.generation += 1
        self.lines, self.at_start = [], False
        self.query_one("#log", RichLog).clear()
        self._find()
        self._title()
        if self.services is None:
            self.note("not connected to podman yet")
            return
        self.follow(self.services.ctx.backend, self.container, self.timestamps, self.generation)

    @work(thread=True, exclusive=True, group="logs", exit_on_error=False)
    def follow(self, engine: Any, container: str, timestamps: bool, generation: int) -> None:
        worker = get_current_worker()
        try:
            lines = engine.logs(container, tail=TAIL, timestamps=timestamps)
            since = time.time()
            self.app.call_from_thread(self.add_lines, lines, generation, len(lines) < TAIL)
            stream = engine.follow_logs(container, since=since, timestamps=timestamps)
        except SymposiumError as exc:
            self.app.call_from_thread(self.note, f"cannot read logs: {exc.message}", generation)
            return
        if not self.app.call_from_thread(self._stream_opened, stream, generation, worker):
            stream.close()
            return
        try:
            for line in stream:
                self.app.call_from_thread(self.add_lines, [line], generation)
        except SymposiumError as exc:
            if not worker.is_cancelled and not stream.closed:
                self.app.call_from_thread(self.note, f"log stream ended: {exc.message}", generation)

    def _stream_opened(self, stream: Any, generation: int, worker: Worker[None]) -> bool:
        """Kept, for _stop_stream to close, unless the follow it is for was stopped meanwhile."""
        if worker.is_cancelled or generation != self.generation:
            return False
        self._stream = stream
        return True

    def add_lines(self, lines: list[str], generation: int | None = None, at_start: bool = False) -> None:
        if generation is not None and generation != self.generation:
            return
        first = len(self.lines)
        self.lines.extend(lines)
        self.at_start = self.at_start or at_start
        log = self.query_one("#log", RichLog)
        for line in lines:
            log.write(self._styled(line), scroll_end=not self.paused)
        if len(self.lines) > MAX_LINES:  # the log dropped as many from its top
            dropped = len(self.lines) - MAX_LINES
            del self.lines[:dropped]
            self.at_start, first = False, first - dropped
            self.matches = [m - dropped for m in self.matches if m >= dropped]
            self.current = min(self.current, len(self.matches) - 1)
        if self.search is not None:
            self.matches += [first + i for i, line in enumerate(lines) if self.search.search(line)]
        self._title()

    def note(self, text: str, generation: int | None = None) -> None:
        """Something the dashboard says about the log, not a line of it: kept out of `lines`."""
        if generation is None or generation == self.generation:
            self.query_one("#log", RichLog).write(Text(f"[{text}]", style="italic"), scroll_end=not self.paused)

    def _styled(self, line: str) -> Text:
        text = Text(line)
        if self.search is not None:
            text.highlight_regex(self.search, style=MATCH_STYLE)
        return text

    def _redraw(self) -> None:
        log = self.query_one("#log", RichLog)
        log.clear()
        for line in self.lines:
            log.write(self._styled(line), scroll_end=False)

    # -- older lines -----------------------------------------------------------------------------
    def action_older(self) -> None:
        if self.services is None or self.loading_older:
            return
        if self.at_start:
            self.notify("no older lines: these are all the container printed")
            return
        if len(self.lines) + TAIL > MAX_LINES:
            self.notify(f"at most {MAX_LINES} lines are kept here: `symposium-tui logs` reads them all")
            return
        self.loading_older = True
        self.read_older(self.services.ctx.backend, self.container, self.timestamps, list(self.lines),
                        self.generation)

    @work(thread=True, exclusive=True, group="logs-older", exit_on_error=False)
    def read_older(self, engine: Any, container: str, timestamps: bool, shown: list[str], generation: int) -> None:
        # The engine reads a tail only: ask for more than is shown, keep what comes before it.
        wanted = len(shown) + TAIL
        try:
            fetched = engine.logs(container, tail=wanted, timestamps=timestamps)
        except SymposiumError as exc:
            self.app.call_from_thread(self._older_failed, exc.message)
            return
        self.app.call_from_thread(self._prepend, older_part(fetched, shown), len(fetched) < wanted, generation)

    def _older_failed(self, message: str) -> None:
        self.loading_older = False
        self.notify(f"cannot read older lines: {message}", severity="error")

    def _prepend(self, older: list[str], at_start: bool, generation: int) -> None:
        self.loading_older = False
        if generation != self.generation:
            return
        self.at_start = at_start
        if not older:
            self.notify("no older lines: these are all the container printed")
            self._title()
            return
        self.lines[:0] = older
        if self.search is not None:
            self._find(keep_current=True, shift=len(older))
        self.paused = True  # so the view stays on what was asked for
        log = self.query_one("#log", RichLog)
        log.auto_scroll = False
        self._redraw()
        # The view ends where the lines shown before began: reading goes on upwards.
        log.scroll_to(y=max(len(older) - log.size.height, 0), animate=False, immediate=True)
        self._title()

    # -- search ----------------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.pattern = event.value
        event.input.display = False
        self._find()
        self._redraw()
        log = self.query_one("#log", RichLog)
        log.focus()
        if self.matches:
            self._show_match()  # the newest: the end of the log is what was on screen
        elif not self.paused:
            log.scroll_end(animate=False)
        self._title()

    def _find(self, keep_current: bool = False, shift: int = 0) -> None:
        if not self.pattern:
            self.search, self.matches, self.current = None, [], -1
            return
        current = self.matches[self.current] + shift if keep_current and self.matches else None
        self.search, self.as_text = compile_search(self.pattern)
        self.matches = [i for i, line in enumerate(self.lines) if self.search.search(line)]
        self.current = self.matches.index(current) if current in self.matches else len(self.matches) - 1

    def action_next_match(self) -> None:
        self._step(1)

    def action_previous_match(self) -> None:
        self._step(-1)

    def _step(self, by: int) -> None:
        if not self.pattern:
            self.notify("press / to search first")
            return
        if not self.matches:
            self.notify(f"no line matches /{self.pattern}/")
            return
        self.current = (self.current + by) % len(self.matches)  # round from the last to the first
        self.paused = True  # a live follow would scroll away from the match
        self.query_one("#log", RichLog).auto_scroll = False
        self._show_match()
        self._title()

    def _show_match(self) -> None:
        log = self.query_one("#log", RichLog)
        log.scroll_to(y=max(self.matches[self.current] - log.size.height // 2, 0), animate=False, immediate=True)

    # -- the rest --------------------------------------------------------------------------------
    def _stop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.workers.cancel_group(self, "logs")

    def on_unmount(self) -> None:
        self._stop_stream()

    def action_back(self) -> None:
        box = self.query_one("#search", Input)
        if box.display:  # escape in the search box closes the box, not the logs
            box.display = False
            self.query_one("#log", RichLog).focus()
            return
        self._stop_stream()
        self.app.pop_screen()

    def action_switch(self) -> None:
        self.role = "agent" if self.role == "dev" else "dev"
        self.load()

    def action_pause(self) -> None:
        self.paused = not self.paused
        log = self.query_one("#log", RichLog)
        log.auto_scroll = not self.paused
        if not self.paused:
            log.scroll_end(animate=False)
        self._title()

    def action_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self.load()
