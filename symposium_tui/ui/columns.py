"""Which of the list's columns fit the terminal's width, and how wide each is.

A table wider than the screen hid its right-hand columns behind a horizontal scrollbar (at 80
columns: the CPU sparkline and the activity, what a glance at the list is for). Instead columns
are left out, the least useful first (core.columns says which), until the rest fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from typing import TYPE_CHECKING

from rich.text import Text

from symposium_tui.core.columns import COLUMNS, Column, RowFacts, cell_text, drop_order

if TYPE_CHECKING:
    from collections.abc import Mapping

    from symposium_tui.core.services.poller import TaskspaceStatus
    from symposium_tui.core.stats import StatsSample

CELL_PADDING = 2  # DataTable's cell_padding of 1 on each side


def natural_widths(columns: Sequence[Column], values: dict[str, Iterable[str]]) -> dict[str, int]:
    """A column's fixed width, or its longest value (from `values`, by header) up to its most."""
    widths = {}
    for column in columns:
        if column.width is not None:
            widths[column.header] = column.width
        else:
            longest = max((len(v) for v in values.get(column.header, ())), default=0)
            widths[column.header] = min(max(longest, len(column.header)), column.most)
    return widths


def fit(columns: Sequence[str], widths: dict[str, int], available: int) -> list[str]:
    """The columns to show, in their order, leaving out the dashboard's droppable ones first to
    last until the rest fit in `available` cells."""
    shown = list(columns)
    for name in drop_order("dashboard"):
        if sum(widths[c] + CELL_PADDING for c in shown) <= available:
            break
        if name in shown:
            shown.remove(name)
    return shown


def grow(columns: Sequence[Column], shown: Sequence[str], widths: dict[str, int],
         values: dict[str, Iterable[str]], available: int) -> dict[str, int]:
    """The width the shown columns leave, given to those that grow (the agent's latest message),
    each up to its longest value and its `grows`."""
    widths = dict(widths)
    left = available - sum(widths[c] + CELL_PADDING for c in shown)
    for column in columns:
        if column.grows and column.header in shown and left > 0:
            longest = max((len(v) for v in values.get(column.header, ())), default=0)
            more = max(min(longest, column.grows) - widths[column.header], 0)
            widths[column.header] += min(more, left)
            left -= min(more, left)
    return widths


DASHBOARD = tuple(c for c in COLUMNS if c.dashboard is not None)
UI_STATE = ("CHANGES",)  # cells the UI thread makes: they come from its own reads, not the poller


def row_cells(status: TaskspaceStatus, host: str, samples: Mapping[str, Sequence[StatsSample]],
              columns: Sequence[Column] = DASHBOARD, *, host_down: bool = False,
              changes: str | None = None) -> dict[str, Text]:
    """One row's cells as Rich Text (no markup to parse on each render; ids and projects are not
    ours to interpret). Made on the poller's thread for every row of a snapshot (SnapshotTaken),
    so a tick of 200 rows does not hold up a key press on the UI thread."""
    facts = RowFacts.of_status(status, host, host_down=host_down, samples=samples, changes=changes)
    return {c.header: Text(cell_text(c, facts), style=c.style(facts) if c.style else "") for c in columns}
