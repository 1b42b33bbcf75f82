"""A DataTable whose cells change in place every tick without the whole table being drawn again.

Textual's `DataTable.update_cell` counts an update, and the count is part of every render cache's
key: one changed CPU figure re-renders every visible cell of every row (about 360 cells with 40
rows, 0.1-0.3 ms each), which was most of the dashboard's idle CPU. `update_cells` changes the
values and forgets only what was made of them: the changed cells' renders and their rows'
renderables and renders. The order of the rows and the columns' widths, which these changes never
touch, stay cached."""

from __future__ import annotations

from collections.abc import Mapping

from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

# What update_cells relies on in Textual's DataTable (8.x); without them it falls back to update_cell.
_INTERNALS = ("_data", "_row_locations", "_row_renderable_cache", "_cell_render_cache", "_row_render_cache",
              "_line_cache")


class LiveTable(DataTable[CellType]):
    def update_cells(self, changes: Mapping[str, Mapping[str, CellType]]) -> None:
        """Set `changes` ({row key: {column key: value}}) and repaint just those rows."""
        changes = {row: cells for row, cells in changes.items() if cells}
        if not changes:
            return
        if not all(hasattr(self, name) for name in _INTERNALS):
            for row, cells in changes.items():
                for column, value in cells.items():
                    self.update_cell(row, column, value)
            return
        for row, cells in changes.items():
            data = self._data[RowKey(row)]  # KeyError for a row the table does not have, as update_cell
            for column, value in cells.items():
                data[ColumnKey(column)] = value
        rows = {RowKey(row) for row in changes}
        indexes = {self._row_locations.get(row) for row in rows}
        for key in [key for key in self._row_renderable_cache.keys() if key[1] in indexes]:  # (count, index)
            self._row_renderable_cache.discard(key)
        cells = {(RowKey(row), ColumnKey(column)) for row, columns in changes.items() for column in columns}
        for key in [key for key in self._cell_render_cache.keys() if key[:2] in cells]:  # (row, column, …)
            self._cell_render_cache.discard(key)
        for key in [key for key in self._row_render_cache.keys() if key[0] in rows]:  # (row, …): cells joined
            self._row_render_cache.discard(key)
        self._repaint_lines_of(rows)

    def _repaint_lines_of(self, rows: set[RowKey]) -> None:
        """Only the changed rows' lines are drawn again: refreshing the whole table made every
        visible line go through the compositor again for one changed cell (1,500 lines in 30 s
        of an idle dashboard with 50 taskspaces, most of its CPU)."""
        header = self.header_height if self.show_header else 0
        lines = [header + y for y, (key, _) in enumerate(self._y_offsets) if key in rows]
        top, height = self.scroll_offset.y + header, self.size.height - header
        visible = [y for y in lines if top <= y < top + height]
        if len(visible) * 2 > height:  # most of what shows changed: all of it at once is cheaper
            self._line_cache.clear()
            self.refresh()
            return
        wanted = set(lines)
        for key in [key for key in self._line_cache.keys() if key[0] in wanted]:  # (y, x1, x2, …), y with scroll
            self._line_cache.discard(key)
        width = max(self.size.width, self.virtual_size.width)
        for y in visible:
            self.refresh(Region(0, y - self.scroll_offset.y, width, 1))
