"""How the CLI speaks: plain text for people, JSON for scripts, progress on stderr.

What it prints comes partly from engines and taskspaces (labels, names, reasons, errors): every
line and every table cell has its control characters escaped (core.display.printable), so an
escape sequence in a label is shown, never acted on by the terminal. JSON is escaped by json.dumps.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from symposium_tui.core.display import printable


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def emit_json_line(data: Any) -> None:
    """One JSON object per line (NDJSON), flushed: for streams such as `monitor --json`."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def say(text: str = "") -> None:
    print(_lines(text), flush=True)


def say_raw(text: str) -> None:
    """A container's own output (`logs`), as `podman logs` prints it: its colours included."""
    print(text, flush=True)


def note(text: str) -> None:
    print(_lines(text), file=sys.stderr, flush=True)


def terminal_width() -> int | None:
    """Columns to fit: $COLUMNS, else the terminal's; None when the output is no terminal (a
    script reading a pipe gets every column)."""
    import os
    import shutil

    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 20)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def table(rows: list[list[str]], header: list[str], drop: tuple[str, ...] = (), squeeze: str = "",
          width: int | None = None) -> str:
    """Columns padded to line up. When a width is given (default: the terminal's), columns with
    nothing in them go first, then the ones named in DROP, in that order, until the table fits;
    then the SQUEEZE column is cut with an ellipsis."""
    width = terminal_width() if width is None else width
    cells = [[printable(str(c)) for c in row] for row in rows]
    keep = list(range(len(header)))

    def total(columns: list[int]) -> int:
        return sum(max(len(r[i]) for r in [header, *cells]) for i in columns) + 2 * (len(columns) - 1)
    if width is not None:
        for i in [i for i in keep if all(r[i] in ("", "-") for r in cells)] + \
                [header.index(name) for name in drop if name in header]:
            if total(keep) <= width:
                break
            if i in keep and len(keep) > 1:
                keep.remove(i)
        if squeeze in header and header.index(squeeze) in keep and total(keep) > width:
            column = header.index(squeeze)
            room = max(width - (total(keep) - max(len(r[column]) for r in [header, *cells])), len(squeeze))
            for row in cells:
                if len(row[column]) > room:
                    row[column] = row[column][:room - 1] + "…"
    shown = [[row[i] for i in keep] for row in [header, *cells]]
    widths = [max(len(r[j]) for r in shown) for j in range(len(keep))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in shown)
