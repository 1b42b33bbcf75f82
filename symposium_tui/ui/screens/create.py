"""Create a taskspace: a form validated as you type, then a progress bar through the steps."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.repos import parse_repo
from symposium_tui.core.security import LEVELS
from symposium_tui.core.services.create import STEPS, CreateRequest, Creator
from symposium_tui.core.taskspace import PROJECT_TYPES
from symposium_tui.ui.messages import OperationFinished
from symposium_tui.ui.screens.onhost import OnHost


class CreateScreen(OnHost, ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.bind_host()

    def compose(self) -> ComposeResult:
        tiers: list[str] = []
        default_tier = None
        default_level = self.services.ctx.settings.security_default if self.services else "open"
        if self.services is None:
            self.policy_error = "not connected to podman yet"
        else:
            try:
                policy = self.services.ctx.policy
                tiers = sorted(policy.tiers)
                default_tier = policy.default_tier
            except SymposiumError as exc:
                self.policy_error = exc.message
        with Vertical(id="create-dialog", classes="dialog"):
            several = len(getattr(self.app, "hosts", {})) > 1
            yield Static("New taskspace" + (f" on {self.engine_host}" if several else ""), classes="dialog-title")
            yield Label("id: lower-case letters, digits, dashes")
            yield Input(placeholder="fix-login-2", id="id", compact=True)
            yield Label("repository: a path, file:// or a git URL")
            yield Input(placeholder="/home/me/src/project or https://…", id="repo", compact=True)
            yield Label("dev image (empty: the default) · project type · tier · security")
            yield Input(placeholder="localhost/symposium/dev:latest", id="image", compact=True)
            with Horizontal(classes="row"):
                yield Select([(t, t) for t in PROJECT_TYPES], value="none", allow_blank=False, id="type",
                             compact=True)
                yield Select([(t, t) for t in tiers], value=default_tier if tiers else Select.NULL,
                             allow_blank=not tiers, id="tier", compact=True, prompt="tier")
                yield Select([(level, level) for level in LEVELS], value=default_level, allow_blank=False,
                             id="security", compact=True)
            yield Static("", id="create-error", classes="error")
            yield ProgressBar(total=len(STEPS), show_eta=False, id="create-progress")
            yield Static("", id="create-step")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#create-progress").display = False
        if getattr(self, "policy_error", None):
            self._error(self.policy_error)
        self.query_one("#id", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#create-error", Static).update(text)

    def _request(self) -> CreateRequest:
        value = self.query_one
        image = value("#image", Input).value.strip() or None
        tier = value("#tier", Select).value
        return CreateRequest(validate_id(value("#id", Input).value.strip()),
                             parse_repo(value("#repo", Input).value.strip()), image,
                             str(value("#type", Select).value), None if tier is Select.NULL else str(tier),
                             str(value("#security", Select).value))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate as the person types: the first problem is shown in place."""
        try:
            if event.input.id == "id" and event.value:
                validate_id(event.value.strip())
            elif event.input.id == "repo" and event.value:
                parse_repo(event.value.strip())
            self._error("")
        except SymposiumError as exc:
            self._error(exc.message)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        try:
            request = self._request()
        except SymposiumError as exc:
            self._error(exc.message)
            return
        self._error("")
        self.query_one("#create", Button).disabled = True
        self.query_one("#create-progress").display = True
        self.run_create(request)

    @work(thread=True, exclusive=True, group="create", exit_on_error=False)
    def run_create(self, request: CreateRequest) -> None:
        creator = Creator(self.services.ctx, lambda p: self.app.call_from_thread(self._progress, p))
        try:
            taskspace = creator.create(request)
        except SymposiumError as exc:
            self.app.call_from_thread(self._failed, exc.message + (f" ({exc.hint})" if exc.hint else ""))
            return
        self.app.call_from_thread(self._done, taskspace.id)

    def _progress(self, progress) -> None:  # noqa: ANN001 - CreateProgress
        self.query_one("#create-progress", ProgressBar).update(progress=progress.index - 1)
        self.query_one("#create-step", Static).update(f"[{progress.index}/{progress.total}] {progress.detail}")

    def _failed(self, text: str) -> None:
        self._error(f"create failed, nothing was left behind: {text}")
        self.query_one("#create", Button).disabled = False
        self.query_one("#create-progress").display = False

    def _done(self, taskspace: str) -> None:
        self.query_one("#create-progress", ProgressBar).update(progress=len(STEPS))
        self.app.post_message(OperationFinished(f"created {taskspace}"))
        self.dismiss(taskspace)

    def action_cancel(self) -> None:
        if not self.query_one("#create", Button).disabled:
            self.dismiss(None)
