"""What every command shares: the engine connection, settings, and the not-yet-built commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from symposium_tui import __version__
from symposium_tui.core.errors import NotYetAvailable

Handler = Callable[[argparse.Namespace], int]


def open_connection(args: argparse.Namespace):  # noqa: ANN201 - engine type imported lazily
    from symposium_tui.engine.session import connect

    return connect(args.url)


def load_settings():  # noqa: ANN201
    from symposium_tui.core.config import load_settings as load
    from symposium_tui.core.paths import app_paths

    return load(app_paths().config_file)


def not_yet(command: str, issue: int) -> Handler:
    def handler(_: argparse.Namespace) -> int:
        raise NotYetAvailable(f"`{command}` is not yet available in symposium-tui {__version__} "
                              f"(planned in issue #{issue})")
    return handler
