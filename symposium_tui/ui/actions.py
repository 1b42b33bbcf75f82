"""What the dashboard does to the selected taskspace: the App's actions, mixed into it.

Every engine call runs in a thread worker (group "operations") and ends in an OperationFinished
message; dialogs that can be refused (remove) run theirs themselves and say the refusal in place.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

from textual import work

from symposium_tui.core.errors import SymposiumError
from symposium_tui.ui.messages import OperationFinished

if TYPE_CHECKING:
    from symposium_tui.core.services.poller import TaskspaceStatus
    from symposium_tui.session import HostSession as Services

SSH_FAILED = 255  # ssh's own exit code: it could not connect, or lost the connection


class TaskspaceActions:
    """Mixed into the App; `self` is the SymposiumApp."""

    # -- what is selected --------------------------------------------------------------------------
    def selected(self: Any) -> str | None:
        home = self.home_screen()
        return home.selected_id() if home else None

    def selected_status(self: Any) -> TaskspaceStatus | None:
        taskspace, snapshot = self.selected(), self.snapshot_for(self.focus_host())
        if taskspace is None or snapshot is None:
            return None
        return next((t for t in snapshot.taskspaces if t.id == taskspace), None)

    def _need_selection(self: Any) -> str | None:
        taskspace = self.selected()
        if taskspace is None:
            self.notify("select a taskspace first", severity="warning")
        return taskspace

    def _need_services(self: Any) -> Services | None:
        if self.services is None:
            self.notify("not connected to podman yet", severity="warning")
        return self.services

    # -- screens -----------------------------------------------------------------------------------
    def action_refresh(self: Any) -> None:
        self.refresh_now()

    def action_details(self: Any) -> None:
        from symposium_tui.ui.screens.details import DetailsScreen

        if taskspace := self._need_selection():
            self.push_screen(DetailsScreen(taskspace))  # stats fill in once the poller runs

    def action_logs(self: Any) -> None:
        from symposium_tui.ui.screens.logs import LogsScreen

        if (taskspace := self._need_selection()) and self._need_services():
            self.push_screen(LogsScreen(taskspace))

    def action_changes(self: Any) -> None:
        from symposium_tui.ui.screens.changes import ChangesScreen

        if (taskspace := self._need_selection()) and self._need_services():
            self.push_screen(ChangesScreen(taskspace))

    def action_create(self: Any) -> None:
        from symposium_tui.ui.screens.create import CreateScreen

        if self._need_services():
            self.push_screen(CreateScreen())

    def action_adjust(self: Any) -> None:
        from symposium_tui.ui.screens.adjust import AdjustScreen

        if (taskspace := self._need_selection()) and self._need_services():
            self.push_screen(AdjustScreen(taskspace))

    def action_cleanup(self: Any) -> None:
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        if self._need_services():
            self.push_screen(CleanupScreen())

    # -- SSH ---------------------------------------------------------------------------------------
    def _into(self: Any, role: str) -> tuple[str, Any] | None:
        """The selected taskspace and the services, when its ROLE container runs to go into; else
        said (gone) or a start offered (stopped) here, not in a suspended terminal's scrollback."""
        taskspace = self._need_selection()
        if taskspace is None:
            return None
        status = self.selected_status()
        if status is None and self.snapshot_for(self.focus_host()) is not None:
            self.notify(f"{taskspace} is gone from the engine: there is nothing to go into", severity="warning")
            return None
        container = status.containers.get(role) if status is not None else None
        if status is not None and (container is None or not container.running):
            self._offer_start(taskspace, role, status)
            return None
        services = self._need_services()
        return (taskspace, services) if services is not None else None

    def action_ssh(self: Any, role: str) -> None:
        # Suspending for an ssh that cannot connect showed its error only in the terminal's
        # scrollback, gone the moment the dashboard came back: say it here, and offer the fix.
        target = self._into(role)
        if target is None:
            return
        taskspace, services = target
        alias = services.ctx.ssh_alias(taskspace, role)
        with self.suspend():
            result = subprocess.run(["ssh", "-F", str(services.ctx.paths.main_ssh_config), "--", alias],
                                    check=False)
        if getattr(result, "returncode", 0) == SSH_FAILED:
            self.notify(f"ssh {alias} could not connect or lost the connection (exit code 255)",
                        severity="error", timeout=10)

    def action_exec(self: Any, role: str) -> None:
        """A shell in the container through the engine, not SSH (for when sshd is what broke): the
        dashboard suspends until it ends."""
        from symposium_tui.core.ids import container_name
        from symposium_tui.core.taskspace import CONTAINER_UID

        target = self._into(role)
        if target is None:
            return
        taskspace, services = target
        member = container_name(taskspace, role)
        failed = None
        with self.suspend():
            try:
                services.ctx.backend.interactive(member, ("/bin/bash", "-l"), f"{CONTAINER_UID}:{CONTAINER_UID}",
                                                 "/workspace", sys.stdin.isatty() and sys.stdout.isatty())
            except SymposiumError as exc:
                failed = exc.message
        if failed:
            self.notify(f"a shell in {member} through the engine: {failed}", severity="error", timeout=10)

    def action_forward(self: Any) -> None:
        """A port inside the selected taskspace on this machine's 127.0.0.1, through its SSH, for
        as long as the dashboard runs (ForwardScreen; `p` again stops them)."""
        from symposium_tui.core.forwards import listening
        from symposium_tui.core.ids import container_name
        from symposium_tui.ui.screens.forward import ForwardScreen

        target = self._into("dev")
        if target is None:
            return
        taskspace, services = target
        host = self.focus_host()
        current = self.forwards.of(host, taskspace)

        def chosen(choice: tuple[str, int, int] | None) -> None:
            if choice is None:
                return
            if choice[0] == "stop":
                self.forwards.stop(current)
                self.notify(f"{taskspace}: stopped forwarding " + ", ".join(f.describe() for f in current))
                return
            self.start_forward(services, host, taskspace, choice[1], choice[2])
        member = container_name(taskspace, "dev")

        def listed() -> list:
            with services.own_read(taskspace):  # our look is not the taskspace's activity (idle stop)
                return listening(services.ctx.backend, member)
        self.push_screen(ForwardScreen(taskspace, listed, [f.describe() for f in current]), chosen)

    @work(thread=True, group="operations", exit_on_error=False)
    def start_forward(self: Any, services: Any, host: str, taskspace: str, port: int, local: int) -> None:
        from symposium_tui.core.forwards import forward_argv

        argv = forward_argv(str(services.ctx.paths.main_ssh_config), services.ctx.ssh_alias(taskspace, "dev"),
                            local, port)
        ours = next((f for f in self.forwards.all() if f.local == local), None)
        if ours is not None:
            self.post_message(OperationFinished(f"127.0.0.1:{local} is this dashboard's forward already "
                                                f"({ours.describe()}): choose another local port", failed=True,
                                                host=host))
            return
        try:
            forward = self.forwards.start(host, taskspace, port, local, argv)
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"forward {taskspace}:{port} failed: {exc.message}", failed=True,
                                                host=host))
            return
        self.post_message(OperationFinished(f"forwarding {forward.describe()} while the dashboard runs "
                                            "(p again to stop)", host=host))

    def _forward_ended(self: Any, forward: Any, why: str) -> None:
        """A forward's ssh ended by itself (the taskspace stopped, SSH broke): said (from its thread)."""
        if self._quitting.is_set():
            return
        self.call_from_thread(self.notify, f"forward {forward.describe()} ended: {why}", severity="warning",
                              timeout=10)

    def action_copy(self: Any) -> None:
        """Files into or out of the selected taskspace (CopyScreen), running or stopped."""
        from symposium_tui.ui.screens.copy import CopyScreen

        taskspace = self._need_selection()
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        host = self.focus_host()
        self.push_screen(CopyScreen(taskspace), lambda choice: self.run_copy(services, host, *choice)
                         if choice else None)

    @work(thread=True, group="operations", exit_on_error=False)
    def run_copy(self: Any, services: Any, host: str, source: Any, dest: Any, role: str) -> None:
        from symposium_tui.core.display import printable
        from symposium_tui.core.services.copy import copy

        self.notify_from_thread(f"copying {source} to {dest}…")
        try:
            result = copy(services.ctx, source, dest, role)
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"copy failed: {exc.message}", failed=True, host=host))
            return
        skipped = result.copied.skipped
        text = f"copied {result.copied.summary()} to {printable(result.to)} ({result.container})"
        if skipped:
            text += f"; not copied ({len(skipped)}): " + "; ".join(printable(s) for s in skipped[:3]) + \
                ("…" if len(skipped) > 3 else "")
        self.post_message(OperationFinished(text, host=host))

    def action_attach(self: Any) -> None:
        """The agent's session, in this terminal: the dashboard suspends until the person detaches."""
        from symposium_tui.core.services.agents import acknowledge, attach_argv

        taskspace = self._need_selection()
        if taskspace is None:
            return
        status = self.selected_status()
        container = status.containers.get("agent") if status is not None else None
        if status is not None and (container is None or not container.running):
            self._offer_start(taskspace, "agent", status)
            return
        services = self._need_services()
        if services is None:
            return
        if status is not None and not self.read_only:
            acknowledge(services.ctx, taskspace, status.agent)
        with self.suspend():
            result = subprocess.run(attach_argv(services.ctx, taskspace, str(services.ctx.paths.main_ssh_config)),
                                    check=False)
        if getattr(result, "returncode", 0) == SSH_FAILED:
            self.notify(f"the agent of {taskspace}: ssh could not connect or lost the connection (exit code 255)",
                        severity="error", timeout=10)
        self.refresh_now()

    def action_seen(self: Any) -> None:
        """What the selected taskspace's agent asked for is seen: its row is no longer marked."""
        from symposium_tui.core.services.agents import acknowledge

        taskspace, status = self._need_selection(), self.selected_status()
        services = self._need_services() if taskspace else None
        if taskspace is None or status is None or services is None:
            return
        if acknowledge(services.ctx, taskspace, status.agent):
            self.notify(f"{taskspace}: marked as seen")
            self.refresh_now()
        else:
            self.notify(f"{taskspace}: its agent is not asking for anything")

    def _offer_start(self: Any, taskspace: str, role: str, status: TaskspaceStatus) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

        container = status.containers.get(role)
        if not status.containers or status.health.state.value == "stopped":
            what = f"{taskspace} is stopped"
        else:
            state = container.state.value if container is not None else "missing"
            what = f"{taskspace}: its {role} container is {state}"
        self.notify(f"{what}: there is nothing to SSH into", severity="warning")
        if self.read_only or self.services is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._drive("start")
        self.push_screen(ConfirmScreen(f"{what}.\n\nStart {taskspace}? Press {'s' if role == 'dev' else 'S'} "
                                       "again once it is running."), answered)

    # -- changes -----------------------------------------------------------------------------------
    def action_security(self: Any) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
        from symposium_tui.ui.screens.security import SecurityScreen, consequence

        taskspace = self._need_selection()
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        host = self.focus_host()
        status = self.selected_status()
        current = (status.security if status else "") or "open"

        def chosen(level: str | None) -> None:
            if level and level != current:
                self.push_screen(ConfirmScreen(consequence(taskspace, current, level)),
                                 lambda yes: self.change_security(services, host, taskspace, level) if yes else None)
        self.push_screen(SecurityScreen(taskspace, current), chosen)

    @work(thread=True, group="operations", exit_on_error=False)
    def change_security(self: Any, services: Services, host: str, taskspace: str, level: str) -> None:
        from symposium_tui.core.services.security import SecurityChange

        self.notify_from_thread(f"{taskspace}: making its pod again at the {level} level…")
        try:
            old, _ = SecurityChange(services.ctx).change(taskspace, level)
            self.post_message(OperationFinished(f"{taskspace}: security {old} → {level}", host=host))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"security of {taskspace} failed: {exc.message}", failed=True,
                                                host=host))

    def action_restart(self: Any) -> None:
        self._drive("restart")

    def action_start(self: Any) -> None:
        self._drive("start")

    def action_stop(self: Any) -> None:
        self._drive("stop")

    def _drive(self: Any, verb: str) -> None:
        from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

        home = self.home_screen()
        marked = home.marked_rows() if home is not None else []
        if marked:  # every marked row, after one confirmation that lists them
            several = self.several_hosts
            names = "\n".join(f"  {taskspace}" + (f" on {host}" if several else "") for host, taskspace in marked)

            def answered(yes: bool | None) -> None:
                if not yes:
                    return
                home.marked = set()
                for host, taskspace in marked:
                    services = self.services_for(host)
                    if services is not None:
                        self.drive(services, host, taskspace, verb)
            self.push_screen(ConfirmScreen(f"{verb.capitalize()} these {len(marked)} taskspaces?\n\n{names}"), answered)
            return
        if (taskspace := self._need_selection()) and (services := self._need_services()):
            self.drive(services, self.focus_host(), taskspace, verb)

    @work(thread=True, group="operations", exit_on_error=False)
    def drive(self: Any, services: Services, host: str, taskspace: str, verb: str) -> None:
        self.notify_from_thread(f"{verb} {taskspace}…")
        try:
            getattr(services.lifecycle, verb)(taskspace)
            self.post_message(OperationFinished(f"{verb} {taskspace}: done", host=host))
        except SymposiumError as exc:
            self.post_message(OperationFinished(f"{verb} {taskspace} failed: {exc.message}", failed=True,
                                                host=host))

    def action_remove(self: Any) -> None:
        from symposium_tui.ui.screens.confirm import Removal, RemoveScreen

        home = self.home_screen()
        marked = home.marked_rows() if home is not None else []
        if marked:  # the marked ones, each one's unsaved work listed in the one dialog
            targets = [Removal(taskspace, services.lifecycle, host if self.several_hosts else "")
                       for host, taskspace in marked if (services := self.services_for(host)) is not None]
            if not targets:
                return

            def done(outcome: str | None) -> None:
                if outcome is not None:
                    home.marked = set()
                    self.post_message(OperationFinished(outcome, host=marked[0][0]))
            self.push_screen(RemoveScreen.several(targets), done)
            return
        taskspace = self._need_selection()
        services = self._need_services() if taskspace else None
        if taskspace is None or services is None:
            return
        host = self.focus_host()

        def removed(outcome: str | None) -> None:
            if outcome is not None:
                self.post_message(OperationFinished(outcome, host=host))
        self.push_screen(RemoveScreen(taskspace, services.lifecycle), removed)

    def notify_from_thread(self: Any, text: str) -> None:
        self.call_from_thread(self.notify, text, timeout=3)
