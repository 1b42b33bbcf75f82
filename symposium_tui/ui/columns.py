"""Which of the list's columns fit the terminal's width, and how wide each is.

A table wider than the screen hid its right-hand columns behind a horizontal scrollbar (at 80
columns: the CPU sparkline and the activity, what a glance at the list is for). Instead columns
are left out, the least useful first, until the rest fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# The order columns are left out in. Ports and the network level are one key away (enter: the
# details screen shows them with the SSH commands); the tier is there too; the project often
# repeats; CPU now, memory, the sparkline and the last activity are what the list is for. HOST,
# ID and HEALTH always stay.
DROP_ORDER = ("AGENT", "DEV", "NET", "TIER", "PROJECT", "CPU 20s", "ACTIVITY", "MEMORY", "CPU")
# Widths of the columns whose values come and go every tick: a cell never outgrows its column.
FIXED_WIDTHS = {"HEALTH": 9, "TIER": 8, "NET": 5, "DEV": 5, "AGENT": 5, "CPU": 4, "MEMORY": 10,
                "CPU 20s": 10, "ACTIVITY": 16}
# Columns sized to their longest value, up to a limit (the status line has a long id whole).
MOST = {"ID": 28, "PROJECT": 16, "HOST": 14}
CELL_PADDING = 2  # DataTable's cell_padding of 1 on each side


def natural_widths(columns: Sequence[str], values: dict[str, Iterable[str]]) -> dict[str, int]:
    widths = {}
    for column in columns:
        if column in FIXED_WIDTHS:
            widths[column] = FIXED_WIDTHS[column]
        else:
            longest = max((len(v) for v in values.get(column, ())), default=0)
            widths[column] = min(max(longest, len(column)), MOST.get(column, 20))
    return widths


def fit(columns: Sequence[str], widths: dict[str, int], available: int) -> list[str]:
    """The columns to show, in their order, leaving out those in DROP_ORDER first to last until
    the rest fit in `available` cells."""
    shown = list(columns)
    for name in DROP_ORDER:
        if sum(widths[c] + CELL_PADDING for c in shown) <= available:
            break
        if name in shown:
            shown.remove(name)
    return shown
