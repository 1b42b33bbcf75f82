"""The dashboard's list changes cells in place: the new values are drawn, and only their rows."""

from __future__ import annotations

from textual.app import App, ComposeResult

from symposium_tui.ui.widgets.live_table import LiveTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(id="t")


def line(table: LiveTable, y: int) -> str:
    return table.render_line(y).text


async def test_update_cells_draws_the_new_values_and_keeps_the_other_rows_renders():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.add_column("ID", key="ID", width=8)
        table.add_column("CPU", key="CPU", width=6)
        for index in range(5):
            table.add_row(f"ts-{index}", "1%", key=f"ts-{index}")
        await pilot.pause()
        assert "ts-2" in line(table, 3) and "1%" in line(table, 3)
        kept = [key for key in table._cell_render_cache.keys()
                if (str(key[0].value), str(key[1].value)) != ("ts-2", "CPU")]
        assert any(str(key[0].value) == "ts-2" for key in kept)  # its ID cell, which did not change
        assert any(str(key[0].value) != "ts-2" for key in kept)  # the other rows were rendered, and are cached

        table.update_cells({"ts-2": {"CPU": "87%"}, "ts-3": {}})
        await pilot.pause()
        assert "87%" in line(table, 3)  # drawn again with its new value (row 3: the header is line 0)
        assert "1%" in line(table, 4) and "87%" not in line(table, 4)
        assert table.get_cell("ts-2", "CPU") == "87%"
        assert all(key in table._cell_render_cache for key in kept)  # no other cell's render was dropped


async def test_update_cells_of_a_row_it_does_not_have_is_an_error():
    app = TableApp()
    async with app.run_test(size=(40, 8)):
        table = app.query_one(LiveTable)
        table.add_column("ID", key="ID")
        try:
            table.update_cells({"nope": {"ID": "x"}})
        except KeyError:
            return
        raise AssertionError("a row that is not there was updated")


async def test_only_the_changed_rows_lines_are_drawn_again_scrolled_or_not():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.add_column("ID", key="ID", width=8)
        table.add_column("CPU", key="CPU", width=6)
        for index in range(40):
            table.add_row(f"ts-{index}", "1%", key=f"ts-{index}")
        await pilot.pause()
        table.scroll_to(y=20, animate=False)
        await pilot.pause()
        assert table.scroll_offset.y == 20
        visible_before = {key[0] for key in table._line_cache.keys()}
        assert visible_before  # drawn, and cached by line
        table.update_cells({"ts-22": {"CPU": "87%"}, "ts-2": {"CPU": "55%"}})  # one shown, one scrolled away
        await pilot.pause()
        shown = app.export_screenshot()
        assert "87%" in shown and "55%" not in shown
        changed_lines = {1 + 22, 1 + 2}  # the header is line 0; lines are counted in the table, not the screen
        kept = {key[0] for key in table._line_cache.keys()}
        assert visible_before - changed_lines <= kept  # the other rows' lines were not drawn again
        assert not changed_lines & {key[0] for key in table._line_cache.keys() if key[0] == 3}
        table.scroll_to(y=0, animate=False)
        await pilot.pause()
        assert "55%" in app.export_screenshot()  # the row that changed out of sight, once in sight
