"""Create a taskspace: a form validated as you type, then a progress bar through the steps.

Each field's label sits beside it (the form fits 80×24 with a line for the chosen tier's values);
Enter in any field creates; errors name the fields, not the CLI's flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.models import HostCapacity
from symposium_tui.core.policy import Limits
from symposium_tui.core.repos import parse_repo, validate_branch, validate_ref
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.create import STEPS, CreateRequest, Creator
from symposium_tui.core.toolchains import CHOICES
from symposium_tui.ui.forms import field_message, tier_info, tier_option
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens.onhost import OnHost

if TYPE_CHECKING:
    from symposium_tui.session import HostSession

FIELDS = {"--repo": "Repository", "--image": "Dev image", "--tier": "Tier", "--project-type": "Project type",
          "--security": "Security", "--ref": "Start at", "--branch": "Branch"}


class CreateScreen(OnHost, ModalScreen[str | None]):
    HELP_TITLE = "Create a taskspace"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.bind_host()
        self.tiers: dict[str, Limits] = {}
        self.capacity: HostCapacity | None = None  # the engine host's, once asked
        self.policy_error = ""

    def compose(self) -> ComposeResult:
        default_tier = None
        default_level = self.services.ctx.settings.security_default if self.services else "open"
        if self.services is None:
            self.policy_error = "not connected to podman yet"
        else:
            try:
                policy = self.services.ctx.policy
                self.tiers = {name: tier.limits for name, tier in sorted(policy.tiers.items())}
                default_tier = policy.default_tier
            except SymposiumError as exc:
                self.policy_error = exc.message
        with Vertical(id="create-dialog", classes="dialog"):
            several = len(getattr(self.app, "hosts", {})) > 1
            yield Static(Text("New taskspace" + (f" on {self.engine_host}" if several else "")),
                         classes="dialog-title")
            with Horizontal(classes="field"):
                yield Label("ID")
                yield Input(placeholder="fix-login-2: lower-case letters, digits, dashes", id="id", compact=True)
            with Horizontal(classes="field"):
                yield Label("Repository")
                yield Input(placeholder="a path, file:// or a git URL", id="repo", compact=True)
            with Horizontal(classes="field"):
                yield Label("Start, branch")
                yield Input(placeholder="HEAD, or a branch, tag, commit", id="ref", compact=True)
                yield Input(placeholder="taskspace/ID", id="branch", compact=True)
            with Horizontal(classes="field"):
                yield Label("Dev image")
                yield Input(placeholder="empty: the default (localhost/symposium/dev:latest)", id="image",
                            compact=True)
            with Horizontal(classes="field"):
                yield Label("Tier")
                yield Select(self._tier_options(), value=default_tier if self.tiers else Select.NULL,
                             allow_blank=not self.tiers, id="tier", compact=True, prompt="tier")
            with Horizontal(classes="field"):
                yield Label("Type, security")
                yield Select([("auto", "auto"), *((t, t) for t in CHOICES)], value="auto", allow_blank=False,
                             id="type", compact=True)
                yield Select([(level, level) for level in LEVELS], value=default_level, allow_blank=False,
                             id="security", compact=True)
            yield Static("", id="tier-info")
            yield Static("", id="create-error", classes="error", markup=False)
            yield ProgressBar(total=len(STEPS), show_eta=False, id="create-progress")
            yield Static("", id="create-step", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def _tier_options(self) -> list[tuple[Text, str]]:
        return [(tier_option(name, limits, self.capacity), name) for name, limits in self.tiers.items()]

    def on_mount(self) -> None:
        self.query_one("#create-progress").display = False
        if self.policy_error:
            self._error(self.policy_error)
        self.query_one("#id", Input).focus()
        self._show_tier()
        if self.services is not None and self.tiers:
            self.ask_capacity(self.services)

    def key_help(self) -> list[tuple[str, str]]:
        return [("tab / shift+tab", "the next / previous field"), ("enter", "create (in any field)"),
                ("escape", "cancel (not while creating)")]

    @work(thread=True, exclusive=True, group="create-capacity", exit_on_error=False)
    def ask_capacity(self, services: HostSession) -> None:
        try:
            capacity = services.ctx.backend.capacity()
        except SymposiumError:
            return  # the tiers show without the mark; create itself refuses what the host lacks
        self.app.call_from_thread(self._capacity_known, capacity)

    def _capacity_known(self, capacity: HostCapacity) -> None:
        self.capacity = capacity
        tier = self.query_one("#tier", Select)
        chosen = tier.value
        tier.set_options(self._tier_options())
        if chosen is not Select.NULL:
            tier.value = chosen
        self._show_tier()

    def _show_tier(self) -> None:
        chosen = self.query_one("#tier", Select).value
        limits = self.tiers.get(str(chosen)) if chosen is not Select.NULL else None
        self.query_one("#tier-info", Static).update(
            tier_info(str(chosen), limits, self.capacity) if limits else Text(""))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "tier":
            self._show_tier()

    def _error(self, text: str) -> None:
        self.query_one("#create-error", Static).update(text)

    def _request(self) -> CreateRequest:
        value = self.query_one
        image = value("#image", Input).value.strip() or None
        tier = value("#tier", Select).value
        try:
            taskspace = validate_id(value("#id", Input).value.strip())
        except SymposiumError as exc:
            raise SymposiumError(field_message("ID", exc)) from exc
        try:
            repo = parse_repo(value("#repo", Input).value.strip())
        except SymposiumError as exc:
            raise SymposiumError(field_message("Repository", exc, FIELDS)) from exc
        ref, branch = value("#ref", Input).value.strip() or None, value("#branch", Input).value.strip() or None
        for field, typed, check in (("Start at", ref, validate_ref), ("Branch", branch, validate_branch)):
            try:
                if typed is not None:
                    check(typed)
            except SymposiumError as exc:
                raise SymposiumError(field_message(field, exc, FIELDS)) from exc
        kind = str(value("#type", Select).value)
        return CreateRequest(taskspace, repo, image, None if kind == "auto" else kind,
                             None if tier is Select.NULL else str(tier), str(value("#security", Select).value),
                             ref=ref, branch=branch)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate as the person types: the first problem of what is typed is shown in place
        (an empty field is said only on Create)."""
        checks = (("ID", "#id", validate_id), ("Repository", "#repo", parse_repo), ("Start at", "#ref", validate_ref),
                  ("Branch", "#branch", validate_branch))
        for field, selector, check in checks:
            typed = self.query_one(selector, Input).value.strip()
            try:
                if typed:
                    check(typed)
            except SymposiumError as exc:
                self._error(field_message(field, exc, FIELDS))
                return
        self._error("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self._submit()

    def _submit(self) -> None:
        if self.query_one("#create", Button).disabled or self.services is None:
            return  # creating already, or nothing to create with
        try:
            request = self._request()
        except SymposiumError as exc:
            self._error(exc.message)
            return
        self._error("")
        self.query_one("#create", Button).disabled = True
        self.query_one("#create-progress").display = True
        self.run_create(self.services, request)

    @work(thread=True, exclusive=True, group="create", exit_on_error=False)
    def run_create(self, services: HostSession, request: CreateRequest) -> None:
        creator = Creator(services.ctx, lambda p: self.app.call_from_thread(self._progress, p))
        try:
            taskspace = creator.create(request)
        except SymposiumError as exc:
            message = field_message(None, exc, FIELDS) + (f" ({exc.hint})" if exc.hint else "")
            self.app.call_from_thread(self._failed, message)
            return
        self.app.call_from_thread(self._done, taskspace.id, tuple(creator.notes))

    def _progress(self, progress) -> None:  # noqa: ANN001 - CreateProgress
        self.query_one("#create-progress", ProgressBar).update(progress=progress.index - 1)
        self.query_one("#create-step", Static).update(f"[{progress.index}/{progress.total}] {progress.detail}")

    def _failed(self, text: str) -> None:
        self._error(f"create failed, nothing was left behind: {text}")
        self.query_one("#create", Button).disabled = False
        self.query_one("#create-progress").display = False

    def _done(self, taskspace: str, notes: tuple[str, ...] = ()) -> None:
        self.query_one("#create-progress", ProgressBar).update(progress=len(STEPS))
        self.app.post_message(OperationFinished("; ".join((f"created {taskspace}", *notes)), host=self.engine_host))
        self.dismiss(taskspace)

    def action_cancel(self) -> None:
        if not self.query_one("#create", Button).disabled:
            self.dismiss(None)
