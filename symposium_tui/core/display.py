"""Small renderings shared by the CLI and the dashboard: sizes, percentages, sparklines, ages."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import humanize

from symposium_tui.core.units import format_duration

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
    """Whole percents; under one, `<1%` (an idle container's 0.4 % and 0.6 % made its cell flip
    between 0% and 1% every tick, and be drawn again each time)."""
    if value is None:
        return "-"
    return "<1%" if value < 1 else f"{value:.0f}%"


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
    delta = (now or datetime.now(timezone.utc)) - when
    if timedelta(0) <= delta < timedelta(minutes=1):
        return "just now"  # not "7 seconds ago": a list cell that changes every tick is drawn every tick
    return humanize.naturaltime(delta)


def stops(at: float | None, held: str = "", now: float | None = None) -> str:
    """When auto_stop stops a taskspace: `in 1h 20m`, `due` once the time is past (it is being
    looked into), or who keeps it running."""
    if at is None:
        return "-"
    if held:
        return f"held: {held}"
    left = at - (time.time() if now is None else now)
    if left <= 0:
        return "due"
    return "in " + format_duration(left)


def printable(text: str) -> str:
    """Text from an engine or a taskspace (a label, a name, a reason), safe to show on a
    terminal: every character that is not printable (ESC, CR, the other C0 and C1 controls, DEL,
    bidi overrides, zero-width characters) written as its escape (\\x1b, \\r, \\u202e), so it is
    seen and never acted on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def one_line(text: str, limit: int = 300) -> str:
    """What someone else said (an engine's message, an exception's), as one line a person can
    read: whitespace folded (newlines too), the other control characters escaped, cut at LIMIT."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= limit else line[:limit - 1] + "…"
