"""What every command shares: the engine connection and settings."""

from __future__ import annotations

import argparse
from collections.abc import Callable


Handler = Callable[[argparse.Namespace], int]


def open_connection(args: argparse.Namespace):  # noqa: ANN201 - engine type imported lazily
    from symposium_tui.engine.session import connect

    return connect(args.url)


def load_settings():  # noqa: ANN201
    from symposium_tui.core.config import load_settings as load
    from symposium_tui.core.paths import app_paths

    return load(app_paths().config_file)

