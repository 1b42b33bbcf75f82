"""--read-only: what cannot run is not offered anywhere, the mode is on screen, the cleanup
preview (a dry run) still opens, without its Apply."""

from __future__ import annotations

from textual.widgets import DataTable

from symposium_tui.ui.screens.cleanup import CleanupScreen
from symposium_tui.ui.screens.help import HelpScreen
from tests.ui.data import fixed_app, show, text_of
from tests.ui.fakes import connect_fake

CHANGING_KEYS = {"n", "a", "w", "r", "x", "g", "d", "s", "S"}


async def test_the_footer_help_and_palette_offer_only_what_can_run():
    app = fixed_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        # Bindings an action refuses are left out (the footer shows active bindings), not greyed.
        active = app.screen.active_bindings
        assert not CHANGING_KEYS & set(active), sorted(CHANGING_KEYS & set(active))
        assert {"C", "l", "enter", "slash"} <= set(active)
        names = [name for name, _, _ in app.palette_actions()]
        assert "Cleanup preview" in names and "Logs" in names
        assert not {"SSH into dev", "SSH into agent", "Create taskspace", "Adjust resources"} & set(names)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "C" in keys and not {"n", "a", "d", "s / S", "w"} & set(keys)


async def test_the_mode_is_on_screen():
    app = fixed_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        assert "read-only" in app.title
        assert "read-only" in text_of(app.screen.query_one("#engine-status"))
    writable = fixed_app()
    async with writable.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        assert "read-only" not in writable.title
        assert "read-only" not in text_of(writable.screen.query_one("#engine-status"))


async def test_the_cleanup_preview_opens_without_apply(monkeypatch):
    from tests.ui.test_cleanup_screen import FakeCleanup

    monkeypatch.setattr("symposium_tui.ui.screens.cleanup.Cleanup", FakeCleanup)
    app = fixed_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        connect_fake(app)
        await show(pilot)
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, CleanupScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#plan", DataTable).row_count == 2
        assert not app.screen.query_one("#apply").display
        assert not app.screen.query_one("#force").display
        assert "read-only" in text_of(app.screen.query_one("#cleanup-summary")).lower()


async def test_the_palette_runs_the_dashboards_commands_as_system_commands(monkeypatch):
    """Textual's own command palette (ctrl+p) lists the dashboard's actions beside its own
    (theme, screenshot...), without its side key panel and its quit (ours stand in), and runs
    what is picked; a read-only dashboard's palette offers no change."""
    from textual.command import CommandPalette

    from tests.ui.test_cleanup_screen import FakeCleanup

    monkeypatch.setattr("symposium_tui.ui.screens.cleanup.Cleanup", FakeCleanup)
    app = fixed_app(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        connect_fake(app)
        await show(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Cleanup preview" in titles and "Logs" in titles
        assert "Keys" not in titles and titles.count("Quit") == 1
        assert not {"Create taskspace", "Remove taskspace"} & set(titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"cleanup preview")
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(50):
            if isinstance(app.screen, CleanupScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, CleanupScreen)
