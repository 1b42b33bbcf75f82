"""The remove, adjust and create dialogs: refusals stay inside the dialog, previews say what will
really happen, Enter submits, errors name the form's fields."""

from __future__ import annotations

from types import SimpleNamespace

from textual.widgets import Checkbox, Input, Select

from symposium_tui.core.models import HostCapacity
from symposium_tui.core.policy import Limits
from symposium_tui.core.services.lifecycle import UnsavedWork
from symposium_tui.core.services.resources import Adjustment, Resources
from symposium_tui.ui.screens.adjust import AdjustScreen
from symposium_tui.ui.screens.confirm import RemoveScreen
from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
from symposium_tui.ui.screens.create import CreateScreen
from tests.ui.data import fixed_app, press, show, text_of
from tests.ui.fakes import GiB, FakeCtx, FakeEngine, FakeLifecycle, connect_fake

UNSAVED = UnsavedWork(("M src/cart.py",), ("3f2a1bc fix rounding",))


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


# -- remove --------------------------------------------------------------------------------------
async def test_remove_refuses_unsaved_work_inside_the_dialog_and_force_asks_again():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        lifecycle = FakeLifecycle({"checkout-v2": UNSAVED})
        connect_fake(app, lifecycle=lifecycle)
        await show(pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, RemoveScreen)
        await press(pilot, "#remove")
        await settle(app, pilot)
        # Still the dialog: the refusal and the work are said here, nothing was removed.
        assert isinstance(app.screen, RemoveScreen)
        said = text_of(app.screen.query_one("#remove-outcome"))
        assert "refused" in said and "--force" not in said
        assert "unsaved work: 1 commit not fetched (3f2a1bc fix rounding), 1 file changed (M src/cart.py)" in text_of(app.screen.query_one("#remove-plan"))
        assert lifecycle.removed == []
        force = app.screen.query_one("#force", Checkbox)
        assert force.display
        force.value = True
        await press(pilot, "#remove")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text_of(app.screen.query_one("#question"))
        assert "M src/cart.py" in question and "3f2a1bc fix rounding" in question
        await pilot.press("y")
        await settle(app, pilot)
        assert lifecycle.removed == [("checkout-v2", False, True)]
        assert not isinstance(app.screen, (RemoveScreen, ConfirmScreen))
        assert any("removed checkout-v2" in n.message for n in app._notifications)


async def test_remove_of_a_taskspace_without_unsaved_work_needs_no_second_question():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        lifecycle = FakeLifecycle()
        connect_fake(app, lifecycle=lifecycle)
        await show(pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert not app.screen.query_one("#force").display
        await press(pilot, "#remove")
        await settle(app, pilot)
        assert lifecycle.removed == [("checkout-v2", False, False)]
        assert not isinstance(app.screen, RemoveScreen)


# -- adjust --------------------------------------------------------------------------------------
async def open_adjust(app, pilot, monkeypatch, adjusted: list) -> AdjustScreen:
    monkeypatch.setattr(Resources, "current", lambda self, taskspace: Limits(4 * GiB, 2000, 10 * GiB))

    def adjust(self, taskspace, *, tier=None, memory=None, cpu=None):
        adjusted.append((taskspace, tier, memory, cpu))
        old = Limits(4 * GiB, 2000, 10 * GiB)
        return Adjustment(taskspace, old, self.target(old, tier, memory, cpu), True)
    monkeypatch.setattr(Resources, "adjust", adjust)
    connect_fake(app)
    await show(pilot)
    await pilot.press("a")
    await settle(app, pilot)
    assert isinstance(app.screen, AdjustScreen)
    return app.screen


async def test_adjust_preview_says_the_project_disk_keeps_its_size(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_adjust(app, pilot, monkeypatch, [])
        screen.query_one("#tier", Select).value = "minimal"
        await settle(app, pilot)
        change = text_of(screen.query_one("#change"))
        assert "memory 4Gi -> 1Gi" in change and "cpu 2 -> 0.5" in change
        assert "storage stays 10Gi" in change and "-> 2Gi" not in change


async def test_enter_in_an_adjust_field_applies_and_errors_name_the_field(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        adjusted: list = []
        screen = await open_adjust(app, pilot, monkeypatch, adjusted)
        screen.query_one("#memory", Input).focus()
        await pilot.press(*"2x")
        await settle(app, pilot)
        error = text_of(screen.query_one("#adjust-error"))
        assert error.startswith("Memory") and "--memory" not in error
        screen.query_one("#memory", Input).value = ""
        await pilot.press(*"3Gi", "enter")
        await settle(app, pilot)
        assert adjusted == [("checkout-v2", None, "3Gi", None)]
        assert not isinstance(app.screen, AdjustScreen)


# -- create --------------------------------------------------------------------------------------
class FakeCreator:
    requests: list = []

    def __init__(self, ctx, progress) -> None:
        self.progress = progress
        self.notes: list[str] = []

    def create(self, request):
        FakeCreator.requests.append(request)
        if request.ref is None and request.repo.kind == "path":
            self.notes.append("1 uncommitted change(s) in it are not carried over")
        return SimpleNamespace(id=request.id)


async def open_create(app, pilot, monkeypatch, capacity: HostCapacity | None = None) -> CreateScreen:
    FakeCreator.requests = []
    monkeypatch.setattr("symposium_tui.ui.screens.create.Creator", FakeCreator)
    connect_fake(app, ctx=FakeCtx(backend=FakeEngine(capacity)))
    await show(pilot)
    await pilot.press("n")
    await settle(app, pilot)
    assert isinstance(app.screen, CreateScreen)
    return app.screen


async def test_enter_in_the_create_form_creates(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_create(app, pilot, monkeypatch)
        await pilot.press(*"fix-login-3", "tab", *"https://git.example.com/shop.git", "tab", *"v2.0", "tab",
                          *"try/v2", "enter")
        await settle(app, pilot)
        assert [(r.id, r.ref, r.branch) for r in FakeCreator.requests] == [("fix-login-3", "v2.0", "try/v2")]
        assert not isinstance(app.screen, CreateScreen)


async def test_the_create_form_refuses_a_ref_or_branch_git_would_not_take(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_create(app, pilot, monkeypatch)
        screen.query_one("#ref", Input).value = "main~1"
        await pilot.pause()
        assert text_of(screen.query_one("#create-error")).startswith("Start at")
        screen.query_one("#ref", Input).value = ""
        screen.query_one("#branch", Input).value = "a..b"
        await pilot.pause()
        assert text_of(screen.query_one("#create-error")).startswith("Branch")
        screen.query_one("#id", Input).value = "ok-id"
        screen.query_one("#repo", Input).value = "https://git.example.com/shop.git"
        screen.query_one("#id", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert FakeCreator.requests == [] and text_of(screen.query_one("#create-error")).startswith("Branch")


async def test_create_errors_name_the_fields_not_the_cli_flags(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_create(app, pilot, monkeypatch)
        await pilot.press("tab", *"-x")
        await pilot.pause()
        error = text_of(screen.query_one("#create-error"))
        assert error.startswith("Repository") and "--repo" not in error
        screen.query_one("#repo", Input).value = ""
        screen.query_one("#id", Input).value = "Bad_Id"
        await pilot.pause()
        assert text_of(screen.query_one("#create-error")).startswith("ID")
        # Submitting with an empty repository names the field too.
        screen.query_one("#id", Input).value = "ok-id"
        screen.query_one("#id", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert text_of(screen.query_one("#create-error")).startswith("Repository")
        assert FakeCreator.requests == []


async def test_the_create_form_shows_each_tier_and_marks_what_the_host_cannot_give(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_create(app, pilot, monkeypatch, HostCapacity(2, 6 * GiB, False))
        tiers = {str(value): str(prompt) for prompt, value in screen.query_one("#tier", Select)._options
                 if value is not Select.NULL}
        assert "4Gi" in tiers["default"] and "cpu 2" in tiers["default"] and "10Gi" in tiers["default"]
        assert "too big" not in tiers["default"] and "too big" not in tiers["minimal"]
        assert "too big" in tiers["premium"]
        screen.query_one("#tier", Select).value = "premium"
        await pilot.pause()
        info = text_of(screen.query_one("#tier-info"))
        assert "8Gi" in info and "2 CPUs" in info
