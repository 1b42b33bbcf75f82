"""The App: bindings, the engine connection worker, and the screens."""

from __future__ import annotations

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from symposium_tui import __version__
from symposium_tui.core.errors import SymposiumError
from symposium_tui.ui.commands import DashboardCommands
from symposium_tui.ui.messages import EngineConnected, EngineUnreachable
from symposium_tui.ui.screens.help import HelpScreen
from symposium_tui.ui.screens.home import HomeScreen
from symposium_tui.ui.styles import stylesheets


class SymposiumApp(App[None]):
    TITLE = "symposium-tui"
    SUB_TITLE = f"taskspaces on podman · {__version__}"
    CSS_PATH = stylesheets("app.tcss", "dialogs.tcss")
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(self, url: str | None = None, *, connect: bool = True) -> None:
        super().__init__()
        self.url = url
        self.should_connect = connect
        self.connection = None

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        if self.should_connect:
            self.connect_engine()

    def palette_actions(self) -> list[tuple[str, str, str]]:
        return [("Show keys", "every key and what it does", "help"), ("Quit", "leave the dashboard", "quit")]

    def key_help(self) -> list[tuple[str, str]]:
        return [(self.get_key_display(b), b.description) for b in self.BINDINGS if b.description]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def connect_engine(self) -> None:
        from symposium_tui.engine.session import connect

        try:
            connection = connect(self.url)
        except SymposiumError as exc:
            self.post_message(EngineUnreachable(exc.message, exc.hint))
            return
        self.connection = connection
        version = connection.engine.version().version
        self.post_message(EngineConnected(f"podman {version} · {connection.target.uri} "
                                          f"({connection.target.source})"))

    def on_engine_connected(self, message: EngineConnected) -> None:
        self._home().show_engine(message.description, ok=True)

    def on_engine_unreachable(self, message: EngineUnreachable) -> None:
        text = f"engine unreachable: {message.reason}"
        if message.hint:
            text += f" — {message.hint}"
        self._home().show_engine(text, ok=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(f"{event.worker.name} failed: {event.worker.error}", severity="error",
                        timeout=10)

    def _home(self) -> HomeScreen:
        return next(s for s in self.screen_stack if isinstance(s, HomeScreen))

    def close_engine(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def run_dashboard(url: str | None = None) -> int:
    app = SymposiumApp(url)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0
