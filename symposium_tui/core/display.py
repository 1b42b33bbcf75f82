"""Small renderings shared by the CLI and the dashboard: sizes, percentages, sparklines, ages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import humanize

BARS = "▁▂▃▄▅▆▇█"


def size(value: int | None) -> str:
    """Compact binary sizes, written as limits are (units.format_size): 512Ki, 5.2Mi, 4Gi."""
    if value is None:
        return "-"
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= factor:
            number = value / factor
            return f"{number:.1f}{unit}".replace(".0", "") if number < 10 else f"{number:.0f}{unit}"
    return f"{value}B"


def memory(used: int | None, limit: int) -> str:
    return size(used) + (f"/{size(limit)}" if limit else "")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def sparkline(values: Sequence[float], width: int = 12, top: float = 100.0) -> str:
    """The last `width` values as bar characters, scaled to `top` (100 % of the quota)."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    scale = max(top, max(recent), 1e-9)
    return "".join(BARS[min(int(v / scale * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for v in recent)


def ago(stamp: str | None, now: datetime | None = None) -> str:
    if not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return humanize.naturaltime((now or datetime.now(timezone.utc)) - when)
