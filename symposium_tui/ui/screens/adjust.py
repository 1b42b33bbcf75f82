"""Adjust a taskspace's resources: a tier or memory/CPU, validated, current → new, applied live."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.policy import Limits
from symposium_tui.core.services.resources import Resources, describe_change
from symposium_tui.core.units import format_cpu, format_size
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens.onhost import OnHost


class AdjustScreen(OnHost, ModalScreen[Limits | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, taskspace: str) -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace
        self.current: Limits | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="adjust-dialog", classes="dialog"):
            yield Static(f"Adjust {self.taskspace}", classes="dialog-title")
            yield Static("reading the current limits…", id="current")
            yield Label("tier")
            yield Select([], prompt="keep the current limits", id="tier")
            with Horizontal(classes="row"):
                yield Input(placeholder="memory, e.g. 2Gi", id="memory")
                yield Input(placeholder="cpu, e.g. 1.5 or 1500m", id="cpu")
            yield Static("", id="change")
            yield Static("", id="adjust-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.services is None:
            self._error("not connected to podman yet")
            return
        self.load_current()

    @work(thread=True, exclusive=True, group="adjust", exit_on_error=False)
    def load_current(self) -> None:
        resources = Resources(self.services.ctx, via="dashboard")
        try:
            current = resources.current(self.taskspace)
            tiers = sorted(self.services.ctx.policy.tiers)
        except SymposiumError as exc:
            self.app.call_from_thread(self._error, exc.message)
            return
        self.app.call_from_thread(self._loaded, current, tiers)

    def _loaded(self, current: Limits, tiers: list[str]) -> None:
        self.current = current
        self.query_one("#current", Static).update(
            f"now: memory {format_size(current.memory)}, cpu {format_cpu(current.cpu)}")
        self.query_one("#tier", Select).set_options([(t, t) for t in tiers])
        self._preview()

    def _error(self, text: str) -> None:
        self.query_one("#adjust-error", Static).update(text)

    def _wanted(self) -> tuple[str | None, str | None, str | None]:
        tier = self.query_one("#tier", Select).value
        memory = self.query_one("#memory", Input).value.strip() or None
        cpu = self.query_one("#cpu", Input).value.strip() or None
        return (None if tier is Select.NULL else str(tier)), memory, cpu

    def _preview(self) -> Limits | None:
        if self.current is None:
            return None
        tier, memory, cpu = self._wanted()
        if tier is None and memory is None and cpu is None:
            self.query_one("#change", Static).update("")
            self._error("")
            return None
        try:
            new = Resources(self.services.ctx).target(self.current, tier, memory, cpu)
        except SymposiumError as exc:
            self._error(exc.message)
            return None
        self._error("")
        self.query_one("#change", Static).update(describe_change(self.current, new))
        return new

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        elif self._preview() is not None:
            self.query_one("#apply", Button).disabled = True
            self.apply(*self._wanted())

    @work(thread=True, exclusive=True, group="adjust", exit_on_error=False)
    def apply(self, tier: str | None, memory: str | None, cpu: str | None) -> None:
        try:
            result = Resources(self.services.ctx, via="dashboard").adjust(
                self.taskspace, tier=tier, memory=memory, cpu=cpu)
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        how = "applied live, confirmed inside" if result.applied else "recorded; applies at the next start"
        self.app.post_message(OperationFinished(
            f"{self.taskspace}: {describe_change(result.old, result.new)} ({how})"
            + (f"; {result.note}" if result.note else "")))
        self.app.call_from_thread(self.dismiss, result.new)

    def _failed(self, text: str) -> None:
        self._error(text)
        self.query_one("#apply", Button).disabled = False

    def action_cancel(self) -> None:
        self.dismiss(None)
