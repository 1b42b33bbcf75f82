"""Details and live stats of one taskspace: CPU and memory over the stats history, limits,
restarts, volumes, ports and the SSH commands to copy."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from symposium_tui.core import display as fmt
from symposium_tui.core.restarts import RestartRecord
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus
from symposium_tui.core.services.storage import enforcement
from symposium_tui.core.units import format_cpu
from symposium_tui.ui.screens.onhost import OnHost


class DetailsScreen(OnHost, Screen[None]):
    HELP_TITLE = "Details"
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"), Binding("l", "app.logs", "Logs"),
                Binding("D", "app.changes", "Changes")]

    def __init__(self, taskspace: str) -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace

    def compose(self) -> ComposeResult:
        yield Header()
        # markup=False throughout: health reasons, restart reasons and paths come from the engine.
        with VerticalScroll(id="details"):
            yield Static(id="summary", markup=False)
            yield Static(id="agent", markup=False)
            for role in ("agent", "dev"):
                yield Static(id=f"{role}-title", classes="graph-title", markup=False)
                yield Static(id=f"{role}-cpu", classes="graph", markup=False)
                yield Static(id=f"{role}-mem", classes="graph", markup=False)
            yield Static(id="volumes", markup=False)
            yield Static(id="restarts", markup=False)
            yield Static(id="ssh", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.taskspace + (f" on {self.engine_host}" if len(getattr(self.app, "hosts", {})) > 1 else "")
        if self.snapshot is not None:
            self.show_snapshot(self.snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        status = next((t for t in snapshot.taskspaces if t.id == self.taskspace), None)
        if status is None:
            self.query_one("#summary", Static).update(f"{self.taskspace}: gone from the engine")
            return
        self._summary(status)
        self._agent(status)
        state = self.host_state
        stats = state.stats if state is not None else {}
        for role in ("agent", "dev"):
            container = status.containers.get(role)
            samples = stats.get(container.name, []) if container else []
            cpu = [s.cpu_percent for s in samples]
            mem = [s.mem_bytes for s in samples]
            latest = samples[-1] if samples else None
            limit = status.mem_limit
            self.query_one(f"#{role}-title", Static).update(
                f"{role}: {container.state.value if container else 'missing'} · "
                f"CPU {fmt.percent(latest.cpu_percent if latest else None)} of "
                f"{format_cpu(status.cpu_millis)} CPUs (limit 100%) · memory "
                f"{fmt.memory(latest.mem_bytes if latest else None, limit)}")
            # Scaled to the limits: a full bar means the limit is reached.
            width = max(self.size.width - 24, 20)
            self.query_one(f"#{role}-cpu", Static).update(
                f"cpu    │{fmt.sparkline(cpu, width=width, top=100.0):<{width}}│ limit")
            self.query_one(f"#{role}-mem", Static).update(
                f"memory │{fmt.sparkline(mem, width=width, top=float(limit or max(mem or [1]))):<{width}}│ "
                f"{fmt.size(limit) if limit else 'no limit'}")
        self._volumes(status)
        self._restarts(state.restarts.get(self.taskspace, ()) if state is not None else ())

    def _summary(self, status: TaskspaceStatus) -> None:
        health = status.health.state.value + (f" — {status.health.reason}" if status.health.reason else "")
        self.query_one("#summary", Static).update(
            f"{status.id} · project {status.project or '-'}  tier {status.tier or '-'}  "
            f"security {status.security or '-'}  tools {fmt.printable(status.project_type) or '-'}\n"
            f"health: {health}\n"
            f"ports: dev 127.0.0.1:{status.dev_port or '-'}  agent 127.0.0.1:{status.agent_port or '-'}\n"
            f"limits: memory {fmt.size(status.mem_limit)}, cpu {format_cpu(status.cpu_millis)}  ·  "
            f"last activity {fmt.ago(status.last_activity)}"
            + (f"  ·  idle stop {fmt.stops(status.stops_at, status.stop_held)}" if status.stops_at else "") + "\n"
            f"{self._origin(status)}")

    def _agent(self, status: TaskspaceStatus) -> None:
        """The agent: its state and command, the task it was given, what it said lately."""
        import datetime

        agent = status.agent
        lines = [f"agent: {fmt.printable(agent.text())}" + (f"  ·  runs {fmt.printable(agent.command)}"
                                                             if agent.command else "")]
        task = self._handed_over()
        if task:
            shown = task.splitlines()[:4]
            lines.append("task: " + "\n      ".join(fmt.printable(line[:200]) for line in shown)
                         + ("  …" if len(task.splitlines()) > 4 else ""))
        if agent.recent:
            lines.append("signals (t attaches, A marks seen):")
            lines += [f"  {datetime.datetime.fromtimestamp(s.time):%H:%M:%S} {s.kind:<9} {fmt.printable(s.message)}"
                      for s in agent.recent[-8:]]
        self.query_one("#agent", Static).update("\n".join(lines))

    def _handed_over(self) -> str:
        """The task handed over at create, as kept here (the agent's copy is its own to edit)."""
        if self.services is None:
            return ""
        if getattr(self, "_handed_over_text", None) is None:
            try:
                path = self.services.ctx.taskspace_dir(self.taskspace) / "task.md"
                self._handed_over_text = path.read_text(encoding="utf-8", errors="replace")[:4000] if path.is_file() else ""
            except OSError:
                self._handed_over_text = ""
        return self._handed_over_text

    def _origin(self, status: TaskspaceStatus) -> str:
        """Where its work began, and what it changed since (the list's CHANGES; D shows them)."""
        if not status.start:
            return "start commit: not recorded (made by an earlier version)"
        state = self.host_state
        changes = state.changes.text(status.id) if state is not None else None
        return (f"branch {fmt.printable(status.branch) or '-'} from {status.start[:12]}  ·  "
                f"changes {'…' if changes is None else changes}")

    def _volumes(self, status: TaskspaceStatus) -> None:
        if status.storage is None:
            text = "volumes: measuring…"
        else:
            parts = ", ".join(f"{role} {fmt.size(size)}" for role, size in sorted(status.storage.by_role.items()))
            text = (f"volumes: {parts} — {status.storage.describe()}\n"
                    f"storage limit {enforcement(status.storage)}")
        self.query_one("#volumes", Static).update(text)

    def _restarts(self, records: Sequence[RestartRecord]) -> None:
        if not records:
            text = "restarts: none"
        else:
            import datetime

            text = "restarts:\n" + "\n".join(
                f"  {datetime.datetime.fromtimestamp(r.time):%H:%M:%S} {r.container}: {r.reason} → {r.result}"
                for r in records[-8:])
        self.query_one("#restarts", Static).update(text)
        ctx = self.services.ctx if self.services else None
        config = ctx.paths.main_ssh_config if ctx else "SSH_CONFIG"
        aliases = [ctx.ssh_alias(self.taskspace, role) if ctx else f"{self.taskspace}-{role}"
                   for role in ("dev", "agent")]
        self.query_one("#ssh", Static).update("\n".join(f"ssh -F {config} {alias}" for alias in aliases))
