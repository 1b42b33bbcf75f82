"""`?` lists the keys of the screen it was opened on, scrollable at 80×24; the logs screen counts
and walks search matches and loads older lines from the engine on request."""

from __future__ import annotations

from textual.widgets import DataTable, RichLog

from symposium_tui.ui.screens.help import HelpScreen
from symposium_tui.ui.screens.logs import LogsScreen
from tests.ui.data import fixed_app, show, text_of
from tests.ui.fakes import FakeCtx, FakeEngine, connect_fake


def help_keys(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_help_scrolls_at_80x24_and_every_key_can_be_reached():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        dialog = app.screen.query_one("#help-dialog")
        assert dialog.region.bottom <= 24 and table.region.bottom <= dialog.region.bottom
        assert table.max_scroll_y > 0  # more keys than rows: it scrolls rather than being cut off
        await pilot.press("pagedown", "pagedown")
        await pilot.wait_for_scheduled_animations()
        assert table.scroll_y == table.max_scroll_y
        assert "q" in help_keys(app) and "m" in help_keys(app)


async def test_help_on_the_logs_screen_lists_the_logs_keys():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogsScreen("checkout-v2"))
        await pilot.pause()
        await pilot.press("question_mark")
        keys = help_keys(app)
        assert {"tab", "p", "t", "/", "n / N", "o"} <= set(keys)
        assert "C" not in keys and "d" not in keys  # the list's keys belong to the list


LINES = [f"line {i:04d}" + (" error" if i % 300 == 7 else "") for i in range(1200)]


async def open_logs(app, pilot) -> tuple[LogsScreen, FakeEngine]:
    engine = FakeEngine(log_lines=LINES)
    connect_fake(app, ctx=FakeCtx(backend=engine))
    await show(pilot)
    screen = LogsScreen("checkout-v2")
    await app.push_screen(screen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen, engine


async def test_o_loads_older_lines_from_the_engine():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, engine = await open_logs(app, pilot)
        assert screen.lines == LINES[-500:]
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.lines == LINES[-1000:]
        assert engine.log_calls[-1] == ("taskspace-checkout-v2-dev", 1000)
        assert len(screen.query_one("#log", RichLog).lines) == 1000
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.lines == LINES
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.lines == LINES
        assert any("no older lines" in n.message for n in app._notifications)


async def test_search_counts_matches_and_n_walks_them():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _ = await open_logs(app, pilot)
        for _ in range(2):
            await pilot.press("o")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert len(screen.lines) == 1200
        await pilot.press("slash", *"error", "enter")
        await pilot.pause()
        log = screen.query_one("#log", RichLog)
        # The last match is the current one after a search: the newest output is at the end.
        assert "match 4/4" in text_of(screen.query_one("#logs-title"))
        await pilot.press("N")
        await pilot.pause()
        assert "match 3/4 (line 608)" in text_of(screen.query_one("#logs-title"))
        assert log.scroll_y <= 607 < log.scroll_y + log.size.height
        await pilot.press("n", "n")
        await pilot.pause()
        assert "match 1/4" in text_of(screen.query_one("#logs-title"))  # wraps round
        assert log.scroll_y <= 7 < log.scroll_y + log.size.height


def test_older_lines_are_found_before_the_shown_ones_even_when_new_ones_came_meanwhile():
    from symposium_tui.ui.screens.logs import older_part

    shown = LINES[700:1000]
    assert older_part(LINES[500:1000], shown) == LINES[500:700]
    # Three lines printed since the last one shown: the longer tail ends with them.
    assert older_part(LINES[503:1003], shown) == LINES[503:700]
    assert older_part(LINES[:1000], []) == LINES[:1000]
    assert older_part(LINES[700:1000], shown) == []  # nothing before them
