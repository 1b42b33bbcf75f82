"""Which of the list's columns fit the terminal's width, and how wide each is.

A table wider than the screen hid its right-hand columns behind a horizontal scrollbar (at 80
columns: the CPU sparkline and the activity, what a glance at the list is for). Instead columns
are left out, the least useful first (core.columns says which), until the rest fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from symposium_tui.core.columns import Column, drop_order

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
