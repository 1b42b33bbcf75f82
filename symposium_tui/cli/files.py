"""cp: files into and out of a taskspace's container, through the engine (running or stopped)."""

from __future__ import annotations

import argparse

from symposium_tui.cli.common import Services
from symposium_tui.cli.output import emit_json, note, say
from symposium_tui.core.copying import parse_endpoint
from symposium_tui.core.display import printable


def cmd_cp(args: argparse.Namespace) -> int:
    from symposium_tui.core.services.copy import check_ends, copy

    source, dest = parse_endpoint(args.source), parse_endpoint(args.dest)
    check_ends(source, dest)  # before any engine
    with Services(args) as services:
        result = copy(services.ctx, source, dest, "agent" if args.agent else "dev")
    if args.json:
        emit_json({"source": str(source), "dest": str(dest), "container": result.container, "to": result.to,
                   "notes": result.notes} | result.copied.as_dict())
        return 0
    for line in result.notes:
        note(printable(line))
    for skipped in result.copied.skipped:
        note(f"not copied: {printable(skipped)}")
    say(f"copied {result.copied.summary()} from {printable(str(source))} to {printable(result.to)}"
        + (f" ({result.container})" if args.agent else ""))
    return 0
