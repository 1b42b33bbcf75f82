"""The App: bindings, the engine connection and poller workers, and the screens.

Every engine call runs in a thread worker; results come back as messages. The poller's snapshots
feed whichever screen is showing; screens that are not visible do no work.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState, get_current_worker

from symposium_tui import __version__
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.poller import Poller, Snapshot
from symposium_tui.ui.commands import DashboardCommands
from symposium_tui.ui.messages import (
    EngineConnected,
    EngineUnreachable,
    OperationFinished,
    SnapshotTaken,
)
from symposium_tui.ui.screens.help import HelpScreen
from symposium_tui.ui.screens.home import HomeScreen
from symposium_tui.ui.styles import stylesheets

MUTATING = {"create", "adjust", "cleanup", "restart", "stop", "start", "remove", "security"}
RETRY_SECONDS = 3.0


@dataclass
class Services:
    """What the dashboard drives once connected."""

    connection: object
    ctx: object
    lifecycle: object
    poller: Poller


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

    def __init__(self, url: str | None = None, *, connect: bool = True, read_only: bool = False,
                 interval: float = 2.0) -> None:
        super().__init__()
        self.url = url
        self.should_connect = connect
        self.read_only = read_only
        self.interval = interval
        self.services: Services | None = None
        self.snapshot: Snapshot | None = None
        self.engine_text = "connecting to podman…"
        self.connected_text = ""
        self.engine_ok = True

    # -- start and stop --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        if self.should_connect:
            self.connect_engine()

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def connect_engine(self) -> None:
        """Connect, retrying while the engine is unreachable; then run the poller in this worker."""
        from symposium_tui.cli.common import load_settings
        from symposium_tui.core.paths import app_paths
        from symposium_tui.core.services.context import LifecycleContext
        from symposium_tui.core.services.lifecycle import Lifecycle
        from symposium_tui.core.services.poller import PollerSettings
        from symposium_tui.engine.session import connect

        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                connection = connect(self.url)
                break
            except SymposiumError as exc:
                self.post_message(EngineUnreachable(exc.message, exc.hint))
                if exc.exit_code == 2:
                    return  # a usage error (a bad --url) does not heal by waiting
                time.sleep(RETRY_SECONDS)
        else:
            return
        ctx = LifecycleContext(connection.engine, app_paths(), load_settings())
        poller = Poller(ctx, PollerSettings(interval=self.interval))
        self.services = Services(connection, ctx, Lifecycle(ctx), poller)
        version = connection.engine.server_version()
        self.post_message(EngineConnected(f"podman {version} · {connection.target.uri} "
                                          f"({connection.target.source})"))
        poller.run(lambda snapshot: self.post_message(SnapshotTaken(snapshot)))

    def close_engine(self) -> None:
        if self.services is not None:
            self.services.poller.stop()
            self.services.connection.close()
            self.services = None

    async def action_quit(self) -> None:
        if self.services is not None:
            self.services.poller.stop()
        self.exit()

    # -- what happened ---------------------------------------------------------------------------
    def on_engine_connected(self, message: EngineConnected) -> None:
        self.connected_text = message.description
        self.engine_text, self.engine_ok = message.description, True
        self._show_engine()

    def on_engine_unreachable(self, message: EngineUnreachable) -> None:
        text = f"engine unreachable: {message.reason}"
        if message.hint:
            text += f" — {message.hint}"
        self.engine_text, self.engine_ok = text + " (retrying)", False
        self._show_engine()

    def on_snapshot_taken(self, message: SnapshotTaken) -> None:
        self.snapshot = message.snapshot
        if message.snapshot.engine_error:
            self.engine_text = f"engine unreachable: {message.snapshot.engine_error} (retrying)"
            self.engine_ok = False
            self._show_engine()
        elif not self.engine_ok and self.services is not None:
            self.engine_text, self.engine_ok = self.connected_text, True
            self._show_engine()
        show = getattr(self.screen, "show_snapshot", None)
        if show is not None:
            show(message.snapshot)

    def on_operation_finished(self, message: OperationFinished) -> None:
        self.notify(message.text, severity="error" if message.failed else "information",
                    timeout=8 if message.failed else 4)
        if self.services is not None:
            self.refresh_now()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = error.message if isinstance(error, SymposiumError) else f"{type(error).__name__}: {error}"
            self.notify(f"{event.worker.name} failed: {text}", severity="error", timeout=10)

    def _show_engine(self) -> None:
        for screen in self.screen_stack:
            show = getattr(screen, "show_engine", None)
            if show is not None:
                show(self.engine_text, ok=self.engine_ok)

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in MUTATING:
            return None  # hidden and disabled
        return True

    def palette_actions(self) -> list[tuple[str, str, str]]:
        actions = [("Show keys", "every key and what it does", "help"),
                   ("Taskspace details", "live stats, restarts, volumes, SSH commands", "details"),
                   ("Logs", "agent or dev output, following", "logs"),
                   ("SSH into dev", "suspend the dashboard and ssh into the dev container", "ssh('dev')"),
                   ("SSH into agent", "suspend the dashboard and ssh into the agent", "ssh('agent')"),
                   ("Create taskspace", "a form, then a progress bar", "create"),
                   ("Adjust resources", "tier, memory or CPU, applied live", "adjust"),
                   ("Network security", "isolated, restricted or open; after a confirmation", "security"),
                   ("Cleanup preview", "the dry-run plan; nothing is deleted until you confirm", "cleanup"),
                   ("Restart taskspace", "restart its containers", "restart"),
                   ("Start taskspace", "start a stopped taskspace", "start"),
                   ("Stop taskspace", "stop it; health checks leave it stopped", "stop"),
                   ("Remove taskspace", "after a confirmation that shows what is kept", "remove"),
                   ("Refresh", "poll the engine now", "refresh"),
                   ("Quit", "leave the dashboard", "quit")]
        return [a for a in actions if self.check_action(a[2].split("(")[0], ()) is not None]

    def key_help(self) -> list[tuple[str, str]]:
        keys = [(self.get_key_display(b), b.description) for b in self.BINDINGS if b.description]
        home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
        if home is not None:
            keys += home.key_help()
        return keys

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def selected(self) -> str | None:
        home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
        return home.selected_id() if home else None

    def _need_selection(self) -> str | None:
        taskspace = self.selected()
        if taskspace is None:
            self.notify("select a taskspace first", severity="warning")
        return taskspace

    def _need_services(self) -> Services | None:
        if self.services is None:
            self.notify("not connected to podman yet", severity="warning")
        return self.services

    def action_refresh(self) -> None:
        self.refresh_now()

    def refresh_now(self) -> None:
        if self.services is not None:
            self.services.poller.wake()

    def action_details(self) -> None:
        from symposium_tui.ui.screens.details import DetailsScreen

        if taskspace := self._need_selection():
            self.push_screen(DetailsScreen(taskspace))  # stats fill in once the poller runs

    def action_logs(self) -> None:
        from symposium_tui.ui.screens.logs import LogsScreen

        if (taskspace := self._need_selection()) and self._need_services():
            self.push_screen(LogsScreen(taskspace))

    def action_ssh(self, role: str) -> None:
        taskspace = self._need_selection()
        if taskspace is None or self.services is None:
            return
        config = self.services.ctx.paths.ssh_config
        with self.suspend():
            subprocess.run(["ssh", "-F", str(config), f"{taskspace}-{role}"], check=False)

    def action_create(self) -> None:
        from symposium_tui.ui.screens.create import CreateScreen

        if self._need_services():
            self.push_screen(CreateScreen())

    def action_adjust(self) -> None:
        from symposium_tui.ui.screens.adjust import AdjustScreen

        if (taskspace := self._need_selection()) and self._need_services():
            self.push_screen(AdjustScreen(taskspace))

    def action_security(self) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
        from symposium_tui.ui.screens.security import SecurityScreen, consequence

        taskspace = self._need_selection()
        if taskspace is None or self._need_services() is None:
            return
        status = next((t for t in self.snapshot.taskspaces if t.id == taskspace), None) if self.snapshot else None
        current = (status.security if status else "") or "open"

        def chosen(level: str | None) -> None:
            if level and level != current:
                self.push_screen(ConfirmScreen(consequence(taskspace, current, level)),
                                 lambda yes: self.change_security(taskspace, level) if yes else None)
        self.push_screen(SecurityScreen(taskspace, current), chosen)

    @work(thread=True, group="operations", exit_on_error=False)
    def change_security(self, taskspace: str, level: str) -> None:
        from symposium_tui.core.services.security import SecurityChange

        self.notify_from_thread(f"{taskspace}: making its pod again at the {level} level…")
        try:
            old, _ = SecurityChange(self.services.ctx).change(taskspace, level)
            self.post_message(OperationFinished(f"{taskspace}: security {old} → {level}"))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"security of {taskspace} failed: {exc.message}", failed=True))
        self.refresh_now()

    def action_cleanup(self) -> None:
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        if self._need_services():
            self.push_screen(CleanupScreen())

    def action_restart(self) -> None:
        if taskspace := self._need_selection():
            self.drive(taskspace, "restart")

    def action_start(self) -> None:
        if taskspace := self._need_selection():
            self.drive(taskspace, "start")

    def action_stop(self) -> None:
        if taskspace := self._need_selection():
            self.drive(taskspace, "stop")

    def action_remove(self) -> None:
        from symposium_tui.ui.screens.confirm import RemoveScreen

        taskspace = self._need_selection()
        if taskspace is None or self._need_services() is None:
            return

        def decided(choice: tuple[bool, bool] | None) -> None:
            if choice is not None:
                purge, force = choice
                self.remove_taskspace(taskspace, purge, force)
        self.push_screen(RemoveScreen(taskspace, self.services.lifecycle), decided)

    @work(thread=True, group="operations", exit_on_error=False)
    def drive(self, taskspace: str, verb: str) -> None:
        self.notify_from_thread(f"{verb} {taskspace}…")
        try:
            getattr(self.services.lifecycle, verb)(taskspace)
            self.post_message(OperationFinished(f"{verb} {taskspace}: done"))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"{verb} {taskspace} failed: {exc.message}", failed=True))

    @work(thread=True, group="operations", exit_on_error=False)
    def remove_taskspace(self, taskspace: str, purge_state: bool, force: bool) -> None:
        try:
            removed = self.services.lifecycle.remove(taskspace, purge_state=purge_state, force=force)
            kept = f"; kept {', '.join(removed['kept'])}" if removed["kept"] else ""
            self.post_message(OperationFinished(f"removed {taskspace}{kept}"))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"remove {taskspace} failed: {exc.message}", failed=True))

    def notify_from_thread(self, text: str) -> None:
        self.call_from_thread(self.notify, text, timeout=3)


def run_dashboard(url: str | None = None, read_only: bool = False) -> int:
    app = SymposiumApp(url, read_only=read_only)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0
