"""The scriptable face of the product: argument parsing, subcommands and --json output.

Heavy imports (podman-py, textual) happen inside the handlers that need them, so `--help` and
reporting commands stay fast and never load the UI.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from symposium_tui.cli.output import emit_json, note
from symposium_tui.cli.parser import PROG, build_parser
from symposium_tui.core.errors import SymposiumError

__all__ = ["build_parser", "main"]


def _parse(parser, argv: list[str]):  # noqa: ANN001, ANN202
    """argparse, except that what follows `--` after `exec ID` is the command to run, options and
    all (argparse would refuse a `--` that follows an option such as --agent)."""
    if "--" in argv:
        cut = argv.index("--")
        head = parser.parse_known_args(argv[:cut])[0] if "exec" in argv[:cut] else None
        if head is not None and getattr(head, "command", None) == "exec":
            args = parser.parse_args(argv[:cut])
            args.argv = [*args.argv, *argv[cut + 1:]]
            return args
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("-") and "=" in arg and arg.split("=", 1)[1] == "--":
            # Python's argparse turns "--opt=--" into an empty list instead of the value "--".
            parser.error(f"{arg}: '--' is not a value for {arg.split('=', 1)[0]}")
    args = _parse(parser, argv)
    try:
        if getattr(args, "url", None):
            from symposium_tui.backends import validate_url

            validate_url(args.url)  # a malformed --url is refused before anything else runs
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
