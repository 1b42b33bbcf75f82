"""The theme chosen in the palette is kept across restarts (ui.json in the config dir); every
notification stays readable after its toast has gone."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.widgets import DataTable

from symposium_tui.core.paths import app_paths
from symposium_tui.ui.screens.help import HelpScreen
from symposium_tui.ui.screens.notifications import NotificationsScreen
from tests.ui.data import fixed_app, show


async def test_the_theme_is_kept_across_restarts(tmp_path):
    # The conftest gave this test a config dir of its own.
    assert Path(os.environ["XDG_CONFIG_HOME"]).is_relative_to(tmp_path)
    saved = app_paths().config_dir / "ui.json"
    first = fixed_app()
    async with first.run_test(size=(80, 24)) as pilot:
        assert first.theme != "nord"
        first.theme = "nord"
        await pilot.pause()
    assert json.loads(saved.read_text())["theme"] == "nord"
    again = fixed_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_an_unreadable_or_unknown_saved_theme_is_ignored():
    saved = app_paths().config_dir / "ui.json"
    saved.parent.mkdir(parents=True)
    for text in ("{not json", json.dumps({"theme": "no-such-theme"}), json.dumps(["a list"])):
        saved.write_text(text)
        app = fixed_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.theme == "textual-dark"


async def test_notifications_stay_readable_after_their_toast_has_gone():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        app.notify("removed old-spike", timeout=0.1)
        app.notify("remove fix-login-2 failed: [bold]holds work[/]", severity="error", timeout=0.1)
        await pilot.pause(0.4)
        assert not app._notifications  # the toasts are gone
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, NotificationsScreen)
        messages = app.screen.messages()
        # Newest first, and engine text shown as it came (never as markup).
        assert len(messages) == 2
        assert messages[0].endswith("error remove fix-login-2 failed: [bold]holds work[/]")
        assert messages[1].endswith("info  removed old-spike")
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one(DataTable)
        assert "m" in [str(keys.get_row_at(i)[0]) for i in range(keys.row_count)]
        await pilot.press("escape")
        names = [name for name, _, _ in app.palette_actions()]
        assert "Notifications" in names
