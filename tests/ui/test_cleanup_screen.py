"""The cleanup screen: what each item removes and keeps at 80×24, what apply will really do
(items with unsaved work are skipped) before it runs, force with a second confirmation naming the
work lost, Enter re-plans, the CLI's defaults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual.widgets import Checkbox, DataTable, Input

from symposium_tui.core.cleanup import CleanupItem, Thing
from symposium_tui.core.services.cleanup import CleanupPlan, Outcome
from symposium_tui.ui.screens.cleanup import CleanupScreen
from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
from tests.ui.data import fixed_app, press, show, text_of
from tests.ui.fakes import connect_fake

MiB = 2**20


def item(taskspace: str, project: int, cache: int, unsaved: str = "") -> CleanupItem:
    return CleanupItem(
        taskspace, "stopped", 3 * 86400, "last activity 3d ago (2026-11-25 09:12 UTC)",
        (Thing("pod", f"taskspace-{taskspace}", "pod"),
         Thing("volume", f"taskspace-{taskspace}-project", "project", project),
         Thing("volume", f"taskspace-{taskspace}-build-cache", "build-cache", cache)),
        (Thing("volume", f"taskspace-{taskspace}-agent-state", "agent-state"),), False, unsaved)


def two_items(inactive_for: timedelta, include_running: bool) -> CleanupPlan:
    return CleanupPlan((
        item("fix-x", 20 * MiB, int(8.6 * MiB),
             "2 files changed (M src/cart.py, ?? notes.txt)"),
        item("old-spike", 4 * MiB, int(0.4 * MiB)),
    ), inactive_for, include_running, datetime(2026, 11, 28, tzinfo=timezone.utc))


class FakeCleanup:
    """Plans two items, one of them holding unsaved work; records what was asked."""

    plans: list[tuple[timedelta, bool]] = []
    applied: list[tuple[tuple[str, ...], bool]] = []

    def __init__(self, ctx) -> None:
        pass

    def plan(self, inactive_for: timedelta, include_running: bool = False) -> CleanupPlan:
        FakeCleanup.plans.append((inactive_for, include_running))
        return two_items(inactive_for, include_running)

    def apply(self, plan: CleanupPlan, *, force: bool = False, progress=None) -> list[Outcome]:
        FakeCleanup.applied.append((tuple(i.taskspace for i in plan.items), force))
        return [Outcome(i.taskspace, "removed" if force or not i.warning else "skipped: unsaved work",
                        i.bytes_reclaimed) for i in plan.items]


async def open_cleanup(app, pilot, monkeypatch) -> CleanupScreen:
    FakeCleanup.plans, FakeCleanup.applied = [], []
    monkeypatch.setattr("symposium_tui.ui.screens.cleanup.Cleanup", FakeCleanup)
    connect_fake(app)
    await show(pilot)
    await pilot.press("C")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, CleanupScreen)
    return app.screen


async def test_the_selected_item_shows_what_it_removes_keeps_and_frees_at_80x24(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_cleanup(app, pilot, monkeypatch)
        details = screen.query_one("#item-details")
        text = text_of(details)
        assert "fix-x" in text and "project 20Mi" in text and "build-cache 8.6Mi" in text
        assert "keeps: agent-state" in text and "frees 29Mi" in text
        assert "M src/cart.py" in text and "--force" not in text
        assert details.region.bottom <= 24 and details.region.right <= 80
        screen.query_one("#plan", DataTable).focus()
        await pilot.press("down")
        await pilot.pause()
        assert "old-spike" in text_of(details) and "frees 4.4Mi" in text_of(details)
        # No horizontal scrollbar: the table fits the width.
        assert not screen.query_one("#plan", DataTable).show_horizontal_scrollbar


async def test_apply_says_what_is_skipped_and_really_freed(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_cleanup(app, pilot, monkeypatch)
        summary = text_of(screen.query_one("#cleanup-summary"))
        assert "4.4Mi" in summary and "fix-x" in summary
        await press(pilot, "#apply")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text_of(app.screen.query_one("#question"))
        assert "free 4.4Mi" in question and "33Mi" not in question
        assert "Skipped for unsaved work: fix-x" in question
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert FakeCleanup.applied == [(("fix-x", "old-spike"), False)]


async def test_force_asks_again_naming_the_work_that_would_be_lost(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_cleanup(app, pilot, monkeypatch)
        force = screen.query_one("#force", Checkbox)
        assert force.display and not force.value
        force.value = True
        await pilot.pause()
        await press(pilot, "#apply")
        await pilot.pause()
        assert "free 33Mi" in text_of(app.screen.query_one("#question"))
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        second = text_of(app.screen.query_one("#question"))
        assert "fix-x" in second and "M src/cart.py" in second and "old-spike" not in second
        await pilot.press("n")
        await pilot.pause()
        assert FakeCleanup.applied == []  # said no the second time: nothing ran
        await press(pilot, "#apply")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert FakeCleanup.applied == [(("fix-x", "old-spike"), True)]


async def test_enter_in_the_threshold_re_plans_with_the_cli_defaults(monkeypatch):
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_cleanup(app, pilot, monkeypatch)
        assert FakeCleanup.plans == [(timedelta(days=7), False)]  # as `cleanup` without options
        assert not screen.query_one("#running", Checkbox).value
        box = screen.query_one("#inactive", Input)
        box.focus()
        box.value = ""
        await pilot.press(*"2d", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert FakeCleanup.plans[-1] == (timedelta(days=2), False)
        assert "2d" in text_of(screen.query_one("#cleanup-summary"))
        box.value = "soon"
        await pilot.press("enter")
        await pilot.pause()
        assert "Inactive for" in text_of(screen.query_one("#cleanup-summary"))
