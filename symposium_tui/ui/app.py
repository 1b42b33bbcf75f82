"""The App: bindings, the engine connection and poller workers, and the screens.

Every engine call runs in a thread worker; results come back as messages. The poller's snapshots
feed whichever screen is showing; screens that are not visible do no work.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from symposium_tui import __version__
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.hosts import LOCAL
from symposium_tui.core.services.poller import Snapshot
from symposium_tui.session import HostSession
from symposium_tui.ui.actions import TaskspaceActions
from symposium_tui.ui.changes_feed import ChangesFeed
from symposium_tui.ui.commands import palette_actions
from symposium_tui.ui.hoststate import HostState, hosts_line
from symposium_tui.ui.keys import sections_for
from symposium_tui.ui.messages import (
    EngineConnected,
    EngineUnreachable,
    Notified,
    OperationFinished,
    ShownNotification,
    SnapshotTaken,
)
from symposium_tui.ui.preferences import load_preferences, save_preference
from symposium_tui.ui.screens.help import HelpScreen
from symposium_tui.ui.screens.home import HomeScreen
from symposium_tui.ui.screens.notifications import NotificationsScreen
from symposium_tui.ui.styles import stylesheets

# What --read-only leaves out. The cleanup preview stays: it is a dry run, what a reviewer needs
# (its Apply is hidden); SSH goes, since a shell in a taskspace can change anything. The changes
# screen stays (it reads), without its fetch (which writes a branch into the person's repository).
CHANGING = {"create", "adjust", "restart", "stop", "start", "remove", "security", "ssh", "exec", "fetch", "attach",
            "seen", "forward", "copy"}
RETRY_SECONDS = 3.0
HISTORY = 500  # notifications kept for `m`


class SymposiumApp(TaskspaceActions, ChangesFeed, App[None]):
    TITLE = "symposium-tui"
    SUB_TITLE = f"taskspaces on podman · {__version__}"
    CSS_PATH = stylesheets("app.tcss", "dialogs.tcss")
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("H", "hosts", "Hosts"),  # in the footer with several hosts; with one it is not there
        Binding("m", "notifications", "Notifications", show=False),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]
    # What the list shows: one host, or every host (None) with a host column. Set on the UI
    # thread (the host switcher); the status line and the list follow it.
    view: reactive[str | None] = reactive(None, init=False)

    def __init__(self, url: str | None = None, *, connect: bool = True, read_only: bool = False,
                 interval: float = 2.0, connection: str | None = None,
                 hosts: list[str] | None = None, restart: object | None = None) -> None:
        super().__init__()
        self.url = url
        self.should_connect = connect
        self.read_only = read_only
        if read_only:
            self.title = f"{self.TITLE} (read-only)"  # the header of every screen says so
        self.notification_history: deque[ShownNotification] = deque(maxlen=HISTORY)
        self.interval = interval
        self.restart_policy = restart  # the auto-restart backoff (None: the poller's default)
        self._quitting = threading.Event()  # set on quit: host threads stop connecting and polling
        self._sessions: list[HostSession] = []  # every host thread's, to stop on quit
        self._sessions_lock = threading.Lock()
        from symposium_tui.core.forwards import Forwards

        self.forwards = Forwards(self._forward_ended)  # `p`: kept while the dashboard runs
        self.configured: tuple = ()
        self.network_backend = ""  # of an embedded service (config.yaml engine.network_backend)
        if hosts is None:
            hosts = [LOCAL]
            if connect and not url:
                from symposium_tui.backends import named_hosts
                from symposium_tui.session import load_settings

                settings = load_settings()
                self.configured, self.network_backend = settings.hosts, settings.network_backend
                hosts += [h.name for h in named_hosts(configured=self.configured)]
        self.hosts: dict[str, HostState] = {name: HostState(name) for name in hosts}
        if connection is not None and connection not in self.hosts:
            from symposium_tui.core.hosts import pick
            from symposium_tui.backends import named_hosts

            pick(named_hosts(configured=self.configured), connection)  # says which names exist
        # Set before the app runs: no watcher yet (there is no list to show it in).
        first = connection or (None if len(self.hosts) > 1 else next(iter(self.hosts)))
        self.set_reactive(SymposiumApp.view, first)

    # -- hosts -----------------------------------------------------------------------------------
    @property
    def several_hosts(self) -> bool:
        return len(self.hosts) > 1

    def focus_host(self) -> str:
        """The host actions go to: the one shown, or in the all-hosts list the selected row's."""
        if self.view is not None:
            return self.view
        home = self.home_screen()
        selected = home.selected_host() if home is not None else None
        return selected or next(iter(self.hosts))

    def services_for(self, host: str | None) -> HostSession | None:
        state = self.hosts.get(host or self.focus_host())
        return state.services if state else None

    def snapshot_for(self, host: str | None) -> Snapshot | None:
        state = self.hosts.get(host or self.focus_host())
        return state.snapshot if state else None

    @property
    def services(self) -> HostSession | None:
        return self.services_for(None)

    @services.setter
    def services(self, value: HostSession | None) -> None:
        self.hosts[self.focus_host()].services = value

    @property
    def snapshot(self) -> Snapshot | None:
        return self.snapshot_for(None)

    @property
    def engine_text(self) -> str:
        return self._engine_line()[0]

    @engine_text.setter
    def engine_text(self, text: str) -> None:
        self.hosts[self.focus_host()].text = text

    # -- start and stop --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._restore_theme()
        self.push_screen(HomeScreen())
        if self.should_connect:
            # Once the list is on screen: a host may answer at once, and its news needs the list.
            self.call_after_refresh(self._start_host_threads)
        if self.several_hosts:
            self.set_interval(1.0, self._show_engine)  # a slow host shows as slow while it is

    def _start_host_threads(self) -> None:
        if not self._quitting.is_set():
            several = self.several_hosts  # read here: the hosts are the UI thread's
            for name in self.hosts:
                # A thread of its own per host rather than a Textual thread worker: those share
                # asyncio's default executor (CPUs + 4 threads: 6 here), which hosts would fill,
                # leaving none for actions; and quitting waits for them, while a host may take
                # half a minute to answer. A daemon thread never holds up the exit.
                threading.Thread(target=self._watch_host, args=(name, several), name=f"host-{name}",
                                 daemon=True).start()

    def _watch_host(self, name: str, several_hosts: bool) -> None:
        """One host's thread: connect (retrying while it is unreachable), then run its poller.
        A slow or dead host holds up only this thread. All it tells the UI goes in messages."""
        from symposium_tui.core.services.poller import PollerSettings
        from symposium_tui.backends import connect
        from symposium_tui.session import load_settings

        while True:
            if self._quitting.is_set():
                return
            try:
                if self.url:
                    connection = connect(self.url)
                elif name == LOCAL:
                    connection = connect(use_connections=not several_hosts,
                                         network_backend=self.network_backend)
                else:
                    connection = connect(connection=name, configured=self.configured)
                break
            except SymposiumError as exc:
                self.post_message(EngineUnreachable(exc.message, exc.hint, host=name))
                if exc.exit_code == 2:
                    return  # a usage error (a bad --url) does not heal by waiting
            except OSError as exc:
                self.post_message(EngineUnreachable(f"{exc.strerror or exc}", host=name))
            self._quitting.wait(RETRY_SECONDS)
        if self._quitting.is_set():
            connection.close()  # connected after the person quit
            return
        settings = PollerSettings(interval=self.interval, auto_stop=not self.read_only)
        if self.restart_policy is not None:
            settings = replace(settings, restart=self.restart_policy)
        session = HostSession.on(connection, load_settings(), settings)
        with self._sessions_lock:  # stopped on quit even if the UI thread never took it
            self._sessions.append(session)
        poller = session.poller
        try:
            version = connection.server_version()
        except SymposiumError:
            version = "?"
        self.post_message(EngineConnected(f"podman {version} · {connection.address} "
                                          f"({connection.target.source})", host=name, session=session))
        try:
            poller.run(lambda snapshot: self.post_message(SnapshotTaken.read_from(poller, snapshot, name)))
        except Exception as exc:  # noqa: BLE001 - said in the status line, never a silent stop
            self.post_message(EngineUnreachable(f"its updates stopped: {type(exc).__name__}: {exc}",
                                                "restart the dashboard", host=name))

    def close_engine(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        for state in self.hosts.values():
            state.services = None

    def _stop_pollers(self) -> None:
        self._quitting.set()
        self.forwards.stop_all()
        with self._sessions_lock:
            for session in self._sessions:
                if session.poller is not None:
                    session.poller.stop()

    async def action_quit(self) -> None:
        self._stop_pollers()
        self.exit()

    def on_unmount(self) -> None:
        self._stop_pollers()  # however the app ends: its thread workers must end with it

    # -- what happened ---------------------------------------------------------------------------
    def on_engine_connected(self, message: EngineConnected) -> None:
        state = self.hosts[message.host]
        if message.session is not None:
            state.services = message.session  # on this thread: the UI's structures are the UI's
        state.connected_text = message.description
        state.text, state.ok = message.description, True
        self._show_engine()

    def on_engine_unreachable(self, message: EngineUnreachable) -> None:
        text = f"engine unreachable: {message.reason}"
        if message.hint:
            text += f" — {message.hint}"
        state = self.hosts[message.host]
        state.text, state.ok = text + " (retrying)", False
        self._show_engine()

    def on_snapshot_taken(self, message: SnapshotTaken) -> None:
        state = self.hosts.setdefault(message.host, HostState(message.host))
        state.snapshot, state.stats, state.restarts = message.snapshot, message.stats, message.restarts
        state.cells = message.cells
        for notice in message.snapshot.notices:
            self.notify(notice, title=message.host if self.several_hosts else "", timeout=10)
        self._tell_signals(message)
        state.answered_at = time.monotonic()
        if message.snapshot.engine_error:
            state.text = f"engine unreachable: {message.snapshot.engine_error} (retrying)"
            state.ok = False
            self._show_engine()
        elif not state.ok and state.services is not None:
            state.text, state.ok = state.connected_text, True
            self._show_engine()
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.show_hosts()
            elif getattr(screen, "engine_host", None) == message.host and hasattr(screen, "show_snapshot"):
                screen.show_snapshot(message.snapshot)
        self.read_due_changes(message.host)

    def _tell_signals(self, message: SnapshotTaken) -> None:
        """An agent asking for the person (attention, done): a notification and the bell."""
        from symposium_tui.core.agent import CALLING_KINDS, clean_text

        calling = [(t, s) for t, s in message.snapshot.signals if s.kind in CALLING_KINDS]
        for taskspace, signal in calling[-5:]:
            where = f"{taskspace}@{message.host}" if self.several_hosts else taskspace
            what = "needs you" if signal.kind == "attention" else "is done"
            self.notify(f"{where}: the agent {what}" + (f": {clean_text(signal.message)}" if signal.message else "")
                        + " (t attaches, A marks it seen)", title="agent", severity="warning", timeout=15)
        if calling:
            self.bell()

    def refresh_now(self, host: str | None = None) -> None:
        for name, state in self.hosts.items():
            if state.services is not None and host in (None, name):
                state.services.poller.wake()

    def on_operation_finished(self, message: OperationFinished) -> None:
        self.notify(message.text, severity="error" if message.failed else "information",
                    timeout=8 if message.failed else 4)
        self.refresh_now(message.host)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = error.message if isinstance(error, SymposiumError) else f"{type(error).__name__}: {error}"
            self.notify(f"{event.worker.name} failed: {text}", severity="error", timeout=10)

    def _engine_line(self) -> tuple[str, bool]:
        """The status line: the shown host's engine, or every host's state in a few words."""
        text, ok = hosts_line(self.hosts, self.view, self.interval, time.monotonic())
        return ("read-only · " if self.read_only else "") + text, ok

    def _show_engine(self) -> None:
        text, ok = self._engine_line()
        for screen in self.screen_stack:
            show = getattr(screen, "show_engine", None)
            if show is not None:
                show(text, ok=ok)

    def action_hosts(self) -> None:
        from symposium_tui.ui.screens.hosts import ALL_HOSTS, HostsScreen

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.view = None if choice == ALL_HOSTS else choice
        lines = {name: state.word() for name, state in self.hosts.items()}
        self.push_screen(HostsScreen(lines, self.view), chosen)

    def watch_view(self) -> None:
        self._show_engine()
        if home := self.home_screen():
            home.show_hosts()

    # -- what the app allows, and the keys ---------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in CHANGING:
            return False  # False, not None: left out of the footer, help and palette, not greyed
        if action == "hosts" and not self.several_hosts:
            return False  # one host: nothing to switch to, so not in the footer either
        return True

    def palette_actions(self) -> list[tuple[str, str, str]]:
        return palette_actions(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Ours stand in for two of Textual's: "Show keys" (this screen's keys, scrollable at
        # 80×24, where Textual's side panel takes a third of the width) and "Quit".
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Quit"):
                yield command
        for name, help_text, action in palette_actions(self):  # those allowed now (check_action)
            yield SystemCommand(name, help_text, partial(self.run_action, action))

    def action_sort(self) -> None:
        home = self.home_screen()
        if home is not None:
            home.action_sort()

    def action_mark(self) -> None:
        """The palette's way to mark the selected row (space in the list)."""
        home = self.home_screen()
        if home is not None and self.screen is home:
            home.action_mark()

    def home_screen(self) -> HomeScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(sections_for(self, self.screen)))

    # -- notifications and preferences --------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """markup off unless asked for: what is said here comes from taskspaces and engines. Thread
        safe, as Textual's: the history is kept by a message handled on the app's thread."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        self.post_message(Notified(ShownNotification(time.time(), severity, title, message)))

    def on_notified(self, message: Notified) -> None:
        self.notification_history.append(message.notification)
        for screen in self.screen_stack:
            if isinstance(screen, NotificationsScreen):
                screen.add(message.notification)

    def action_notifications(self) -> None:
        if not isinstance(self.screen, NotificationsScreen):
            self.push_screen(NotificationsScreen(self.notification_history))

    def _restore_theme(self) -> None:
        theme = load_preferences().get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._save_theme)

    def _save_theme(self, theme: Theme) -> None:
        problem = save_preference("theme", theme.name)
        if problem:
            self.notify(f"the theme is not kept for next time: {problem}", severity="warning")


def run_dashboard(url: str | None = None, read_only: bool = False, connection: str | None = None) -> int:
    app = SymposiumApp(url, read_only=read_only, connection=connection)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0
