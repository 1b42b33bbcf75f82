"""The scriptable face of the product: argument parsing, subcommands and --json output.

Heavy imports (podman-py, textual) happen inside the handlers that need them, so `--help` and
reporting commands stay fast and never load the UI.
"""

from __future__ import annotations

from collections.abc import Sequence

from symposium_tui.cli.output import emit_json, note
from symposium_tui.cli.parser import PROG, build_parser
from symposium_tui.core.errors import SymposiumError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SymposiumError as exc:
        note(f"{PROG}: error: {exc.message}")
        if exc.hint:
            note(f"{PROG}: fix: {exc.hint}")
        if getattr(args, "json", False):
            emit_json({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})
        return exc.exit_code
    except KeyboardInterrupt:
        note(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        return 141
