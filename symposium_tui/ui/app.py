"""The App: bindings, the engine connection and poller workers, and the screens.

Every engine call runs in a thread worker; results come back as messages. The poller's snapshots
feed whichever screen is showing; screens that are not visible do no work.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, replace

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from symposium_tui import __version__
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.hosts import LOCAL
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
    """What the dashboard drives on one host once connected."""

    connection: object
    ctx: object
    lifecycle: object
    poller: Poller


@dataclass
class HostState:
    """One engine host as the dashboard knows it; its worker fills it in."""

    name: str
    services: Services | None = None
    snapshot: Snapshot | None = None
    text: str = "connecting to podman…"
    connected_text: str = ""
    ok: bool = True
    answered_at: float = 0.0  # monotonic time of its last snapshot

    def slow_for(self, now: float, interval: float) -> float | None:
        """Seconds since the last answer, when that is far longer than a tick takes."""
        if self.services is None or not self.answered_at:
            return None
        waited = now - self.answered_at
        return waited if waited > max(3 * interval, 5.0) else None


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def short_reason(text: str) -> str:
    """The last clause of an unreachable message ("... port 22: Connection refused (retrying)"):
    what fits in a status line beside other hosts; the switcher (H) shows the whole of it."""
    text = text.removesuffix(" (retrying)")
    return text.rsplit(": ", 1)[-1].strip() or text


class SymposiumApp(App[None]):
    TITLE = "symposium-tui"
    SUB_TITLE = f"taskspaces on podman · {__version__}"
    CSS_PATH = stylesheets("app.tcss", "dialogs.tcss")
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("H", "hosts", "Hosts"),  # in the footer with several hosts; with one it is not there
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(self, url: str | None = None, *, connect: bool = True, read_only: bool = False,
                 interval: float = 2.0, connection: str | None = None,
                 hosts: list[str] | None = None, restart: object | None = None) -> None:
        super().__init__()
        self.url = url
        self.should_connect = connect
        self.read_only = read_only
        self.interval = interval
        self.restart_policy = restart  # the auto-restart backoff (None: the poller's default)
        self._quitting = threading.Event()  # set on quit: host threads stop connecting and polling
        self.configured: tuple = ()
        self.network_backend = ""  # of an embedded service (config.yaml engine.network_backend)
        if hosts is None:
            hosts = [LOCAL]
            if connect and not url:
                from symposium_tui.cli.common import load_settings
                from symposium_tui.engine.connection import named_hosts

                settings = load_settings()
                self.configured, self.network_backend = settings.hosts, settings.network_backend
                hosts += [h.name for h in named_hosts(configured=self.configured)]
        self.hosts: dict[str, HostState] = {name: HostState(name) for name in hosts}
        if connection is not None and connection not in self.hosts:
            from symposium_tui.core.hosts import pick
            from symposium_tui.engine.connection import named_hosts

            pick(named_hosts(configured=self.configured), connection)  # says which names exist
        # What the list shows: one host, or every host (None) with a host column.
        self.view: str | None = connection or (None if len(self.hosts) > 1 else next(iter(self.hosts)))

    # -- hosts -----------------------------------------------------------------------------------
    @property
    def several_hosts(self) -> bool:
        return len(self.hosts) > 1

    def focus_host(self) -> str:
        """The host actions go to: the one shown, or in the all-hosts list the selected row's."""
        if self.view is not None:
            return self.view
        home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
        selected = home.selected_host() if home is not None else None
        return selected or next(iter(self.hosts))

    def services_for(self, host: str | None) -> Services | None:
        state = self.hosts.get(host or self.focus_host())
        return state.services if state else None

    def snapshot_for(self, host: str | None) -> Snapshot | None:
        state = self.hosts.get(host or self.focus_host())
        return state.snapshot if state else None

    @property
    def services(self) -> Services | None:
        return self.services_for(None)

    @services.setter
    def services(self, value: Services | None) -> None:
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
        self.push_screen(HomeScreen())
        if self.should_connect:
            # Once the list is on screen: a host may answer at once, and its news needs the list.
            self.call_after_refresh(self._start_host_threads)
        if self.several_hosts:
            self.set_interval(1.0, self._show_engine)  # a slow host shows as slow while it is

    def _start_host_threads(self) -> None:
        if not self._quitting.is_set():
            for name in self.hosts:
                # A thread of its own per host rather than a Textual thread worker: those share
                # asyncio's default executor (CPUs + 4 threads: 6 here), which hosts would fill,
                # leaving none for actions; and quitting waits for them, while a host may take
                # half a minute to answer. A daemon thread never holds up the exit.
                threading.Thread(target=self._watch_host, args=(name,), name=f"host-{name}",
                                 daemon=True).start()

    def _watch_host(self, name: str) -> None:
        """One host's thread: connect (retrying while it is unreachable), then run its poller.
        A slow or dead host holds up only this thread."""
        from symposium_tui.cli.common import context_for, load_settings
        from symposium_tui.core.services.lifecycle import Lifecycle
        from symposium_tui.core.services.poller import PollerSettings
        from symposium_tui.engine.session import connect

        while True:
            if self._quitting.is_set():
                return
            try:
                if self.url:
                    connection = connect(self.url)
                elif name == LOCAL:
                    connection = connect(use_connections=not self.several_hosts,
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
        ctx = context_for(connection, load_settings())
        settings = PollerSettings(interval=self.interval)
        if self.restart_policy is not None:
            settings = replace(settings, restart=self.restart_policy)
        poller = Poller(ctx, settings)
        self.hosts[name].services = Services(connection, ctx, Lifecycle(ctx), poller)
        try:
            version = connection.engine.server_version()
        except SymposiumError:
            version = "?"
        self.post_message(EngineConnected(f"podman {version} · {connection.engine.where} "
                                          f"({connection.target.source})", host=name))
        try:
            poller.run(lambda snapshot: self.post_message(SnapshotTaken(snapshot, host=name)))
        except Exception as exc:  # noqa: BLE001 - said in the status line, never a silent stop
            self.post_message(EngineUnreachable(f"its updates stopped: {type(exc).__name__}: {exc}",
                                                "restart the dashboard", host=name))

    def close_engine(self) -> None:
        for state in self.hosts.values():
            if state.services is not None:
                state.services.poller.stop()
                state.services.connection.close()
                state.services = None

    def _stop_pollers(self) -> None:
        self._quitting.set()
        for state in self.hosts.values():
            if state.services is not None:
                state.services.poller.stop()

    async def action_quit(self) -> None:
        self._stop_pollers()
        self.exit()

    def on_unmount(self) -> None:
        self._stop_pollers()  # however the app ends: its thread workers must end with it

    # -- what happened ---------------------------------------------------------------------------
    def on_engine_connected(self, message: EngineConnected) -> None:
        state = self.hosts[message.host]
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
        state.snapshot = message.snapshot
        for notice in message.snapshot.notices:
            self.notify(notice, title=message.host if self.several_hosts else "", timeout=10)
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
        now = time.monotonic()
        if self.view is not None and not self.several_hosts:
            state = self.hosts[self.view]
            return state.text, state.ok
        parts, ok = [], True
        for state in self.hosts.values():
            slow = state.slow_for(now, self.interval) if state.ok else None
            if slow is not None:
                word = f"slow: no answer for {slow:.0f} s"
            elif not state.ok:
                word = f"unreachable — {short_reason(state.text)}"
            elif state.services is None:
                word = "connecting…"
            else:
                word = f"ok, {plural(len(state.snapshot.taskspaces) if state.snapshot else 0, 'taskspace')}"
            ok = ok and state.ok and slow is None
            mark = "▶ " if state.name == self.view else ""
            parts.append(f"{mark}{state.name}: {word}")
        return ("all hosts · " if self.view is None else "") + "  │  ".join(parts), ok

    def _show_engine(self) -> None:
        text, ok = self._engine_line()
        for screen in self.screen_stack:
            show = getattr(screen, "show_engine", None)
            if show is not None:
                show(text, ok=ok)

    def action_hosts(self) -> None:
        from symposium_tui.ui.screens.hosts import ALL_HOSTS, HostsScreen

        def chosen(choice: str | None) -> None:
            if choice is None:
                return
            self.view = None if choice == ALL_HOSTS else choice
            self._show_engine()
            for screen in self.screen_stack:
                if isinstance(screen, HomeScreen):
                    screen.show_hosts()
        lines = {name: self._host_word(state) for name, state in self.hosts.items()}
        self.push_screen(HostsScreen(lines, self.view), chosen)

    def _host_word(self, state: HostState) -> str:
        if not state.ok:
            return state.text
        if state.services is None:
            return "connecting…"
        count = len(state.snapshot.taskspaces) if state.snapshot else 0
        return f"{plural(count, 'taskspace')} · {state.connected_text}"

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in MUTATING:
            return None  # hidden and disabled
        if action == "hosts" and not self.several_hosts:
            return False  # one host: nothing to switch to, so not in the footer either
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
                   ("Switch host", "one engine host's taskspaces, or every host's with a host column", "hosts"),
                   ("Refresh", "poll the engine now", "refresh"),
                   ("Quit", "leave the dashboard", "quit")]
        return [a for a in actions if self.check_action(a[2].split("(")[0], ())]

    def key_help(self) -> list[tuple[str, str]]:
        keys = [(self.get_key_display(b), b.description) for b in self.BINDINGS
                if b.description and self.check_action(b.action, ())]
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

    def refresh_now(self, host: str | None = None) -> None:
        for name, state in self.hosts.items():
            if state.services is not None and host in (None, name):
                state.services.poller.wake()

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
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        ctx = services.ctx
        with self.suspend():
            subprocess.run(["ssh", "-F", str(ctx.paths.main_ssh_config), "--", ctx.ssh_alias(taskspace, role)],
                           check=False)

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
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        host = self.focus_host()
        snapshot = self.snapshot_for(host)
        status = next((t for t in snapshot.taskspaces if t.id == taskspace), None) if snapshot else None
        current = (status.security if status else "") or "open"

        def chosen(level: str | None) -> None:
            if level and level != current:
                self.push_screen(ConfirmScreen(consequence(taskspace, current, level)),
                                 lambda yes: self.change_security(services, host, taskspace, level) if yes else None)
        self.push_screen(SecurityScreen(taskspace, current), chosen)

    @work(thread=True, group="operations", exit_on_error=False)
    def change_security(self, services: Services, host: str, taskspace: str, level: str) -> None:
        from symposium_tui.core.services.security import SecurityChange

        self.notify_from_thread(f"{taskspace}: making its pod again at the {level} level…")
        try:
            old, _ = SecurityChange(services.ctx).change(taskspace, level)
            self.post_message(OperationFinished(f"{taskspace}: security {old} → {level}", host=host))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"security of {taskspace} failed: {exc.message}", failed=True,
                                                host=host))

    def action_cleanup(self) -> None:
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        if self._need_services():
            self.push_screen(CleanupScreen())

    def action_restart(self) -> None:
        self._drive("restart")

    def action_start(self) -> None:
        self._drive("start")

    def action_stop(self) -> None:
        self._drive("stop")

    def _drive(self, verb: str) -> None:
        if (taskspace := self._need_selection()) and (services := self._need_services()):
            self.drive(services, self.focus_host(), taskspace, verb)

    def action_remove(self) -> None:
        from symposium_tui.ui.screens.confirm import RemoveScreen

        taskspace = self._need_selection()
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        host = self.focus_host()

        def decided(choice: tuple[bool, bool] | None) -> None:
            if choice is not None:
                purge, force = choice
                self.remove_taskspace(services, host, taskspace, purge, force)
        self.push_screen(RemoveScreen(taskspace, services.lifecycle), decided)

    @work(thread=True, group="operations", exit_on_error=False)
    def drive(self, services: Services, host: str, taskspace: str, verb: str) -> None:
        self.notify_from_thread(f"{verb} {taskspace}…")
        try:
            getattr(services.lifecycle, verb)(taskspace)
            self.post_message(OperationFinished(f"{verb} {taskspace}: done", host=host))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"{verb} {taskspace} failed: {exc.message}", failed=True,
                                                host=host))

    @work(thread=True, group="operations", exit_on_error=False)
    def remove_taskspace(self, services: Services, host: str, taskspace: str, purge_state: bool,
                         force: bool) -> None:
        try:
            removed = services.lifecycle.remove(taskspace, purge_state=purge_state, force=force)
            kept = f"; kept {', '.join(removed['kept'])}" if removed["kept"] else ""
            self.post_message(OperationFinished(f"removed {taskspace}{kept}", host=host))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"remove {taskspace} failed: {exc.message}", failed=True,
                                                host=host))

    def notify_from_thread(self, text: str) -> None:
        self.call_from_thread(self.notify, text, timeout=3)


def run_dashboard(url: str | None = None, read_only: bool = False, connection: str | None = None) -> int:
    app = SymposiumApp(url, read_only=read_only, connection=connection)
    try:
        app.run()
    finally:
        app.close_engine()
    return app.return_code or 0
