"""Adjust a taskspace's resources: a tier or memory/CPU, validated, current → new, applied live.

The preview says what the change will really be: a project disk's size is fixed when it is made,
so a tier's storage does not apply to it (the preview said "storage 10Gi -> 2Gi", the result
"storage stays 10Gi").
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import HostCapacity
from symposium_tui.core.policy import Limits
from symposium_tui.core.services.resources import Resources, describe_change
from symposium_tui.core.units import format_cpu, format_size
from symposium_tui.ui.forms import field_message, tier_option
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens.onhost import OnHost

if TYPE_CHECKING:
    from symposium_tui.session import HostSession as Services

FIELDS = {"--memory": "Memory", "--cpu": "CPU", "--tier": "Tier"}


class AdjustScreen(OnHost, ModalScreen[Limits | None]):
    HELP_TITLE = "Adjust resources"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, taskspace: str) -> None:
        super().__init__()
        self.bind_host()
        self.taskspace = taskspace
        self.current: Limits | None = None
        self.storage_fixed = False  # its project disk is a file system of its own: sized for good

    def compose(self) -> ComposeResult:
        with Vertical(id="adjust-dialog", classes="dialog"):
            yield Static(Text(f"Adjust {self.taskspace}"), classes="dialog-title")
            yield Static("reading the current limits…", id="current")
            with Horizontal(classes="field"):
                yield Label("Tier")
                yield Select([], prompt="keep the current limits", id="tier", compact=True)
            with Horizontal(classes="field"):
                yield Label("Memory")
                yield Input(placeholder="e.g. 2Gi (empty: the tier's, or the current)", id="memory", compact=True)
            with Horizontal(classes="field"):
                yield Label("CPU")
                yield Input(placeholder="e.g. 1.5 or 1500m", id="cpu", compact=True)
            yield Static("", id="change")
            yield Static("", id="adjust-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def key_help(self) -> list[tuple[str, str]]:
        return [("tab", "the next field"), ("enter", "apply (in a field, or on Apply)"),
                ("escape", "cancel")]

    def on_mount(self) -> None:
        if self.services is None:
            self._error("not connected to podman yet")
            return
        self.load_current(self.services)

    @work(thread=True, exclusive=True, group="adjust", exit_on_error=False)
    def load_current(self, services: Services) -> None:
        resources = Resources(services.ctx, via="dashboard")
        try:
            current = resources.current(self.taskspace)
            tiers = {name: tier.limits for name, tier in sorted(services.ctx.policy.tiers.items())}
            project = services.lifecycle.inventory(self.taskspace).volume("project")
            capacity = services.ctx.backend.capacity()
        except SymposiumError as exc:
            self.app.call_from_thread(self._error, exc.message)
            return
        self.app.call_from_thread(self._loaded, current, tiers, project is not None and project.is_loop,
                                  capacity)

    def _loaded(self, current: Limits, tiers: dict[str, Limits], storage_fixed: bool = False,
                capacity: HostCapacity | None = None) -> None:
        self.current, self.storage_fixed = current, storage_fixed
        self.query_one("#current", Static).update(Text(
            f"now: memory {format_size(current.memory)}, cpu {format_cpu(current.cpu)}, "
            f"storage {format_size(current.storage)}" + (" (fixed)" if storage_fixed else "")))
        self.query_one("#tier", Select).set_options(
            [(tier_option(name, limits, capacity), name) for name, limits in tiers.items()])
        self._preview()

    def _error(self, text: str) -> None:
        self.query_one("#adjust-error", Static).update(text)

    def _wanted(self) -> tuple[str | None, str | None, str | None]:
        tier = self.query_one("#tier", Select).value
        memory = self.query_one("#memory", Input).value.strip() or None
        cpu = self.query_one("#cpu", Input).value.strip() or None
        return (None if tier is Select.NULL else str(tier)), memory, cpu

    def _preview(self) -> None:
        if self.current is None or self.services is None:
            return
        wanted = self._wanted()
        if wanted == (None, None, None):
            self.query_one("#change", Static).update("")
            self._error("")
            return
        self.preview(self.services, self.current, *wanted)

    @work(thread=True, exclusive=True, group="adjust-preview", exit_on_error=False)
    def preview(self, services: Services, current: Limits, tier: str | None, memory: str | None,
                cpu: str | None) -> None:
        """In a worker: checking the new limits against the host asks the engine."""
        try:
            new = Resources(services.ctx).target(current, tier, memory, cpu)
        except SymposiumError as exc:
            self.app.call_from_thread(self._previewed, "", field_message(None, exc, FIELDS))
            return
        self.app.call_from_thread(self._target_known, current, new)

    def _target_known(self, current: Limits, new: Limits) -> None:
        self._previewed(self.describe(current, new), "")  # describe reads the screen's state: here

    def describe(self, current: Limits, new: Limits) -> str:
        if self.storage_fixed and new.storage != current.storage:
            change = describe_change(current, replace(new, storage=current.storage))
            stays = (f"storage stays {format_size(current.storage)} (a project disk's size is fixed "
                     "when it is made)")
            return stays if change == "no change" else f"{change}; {stays}"
        return describe_change(current, new)

    def _previewed(self, change: str, error: str) -> None:
        self.query_one("#change", Static).update(Text(change))
        self._error(error)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self._submit()

    def _submit(self) -> None:
        apply = self.query_one("#apply", Button)
        if apply.disabled or self.current is None:
            return
        wanted = self._wanted()
        if wanted == (None, None, None):
            self._error("choose a tier, or type a memory or cpu limit")
            return
        apply.disabled = True
        self.apply(self.services, *wanted)

    @work(thread=True, exclusive=True, group="adjust", exit_on_error=False)
    def apply(self, services: Services, tier: str | None, memory: str | None, cpu: str | None) -> None:
        try:
            result = Resources(services.ctx, via="dashboard").adjust(
                self.taskspace, tier=tier, memory=memory, cpu=cpu)
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, field_message(None, exc, FIELDS))
            return
        how = "applied live, confirmed inside" if result.applied else "recorded; applies at the next start"
        self.app.post_message(OperationFinished(
            f"{self.taskspace}: {describe_change(result.old, result.new)} ({how})"
            + (f"; {result.note}" if result.note else ""), host=self.engine_host))
        self.app.call_from_thread(self.dismiss, result.new)

    def _failed(self, text: str) -> None:
        self._error(text)
        self.query_one("#apply", Button).disabled = False

    def action_cancel(self) -> None:
        self.dismiss(None)
