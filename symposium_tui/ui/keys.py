"""What `?` lists: the keys of the screen it was opened on, then those that work everywhere.

A screen may describe its keys itself (`key_help()`: several keys on one line, with the action
each runs, so the app can leave out what it does not allow now); otherwise its bindings with a
description are listed as they are.
"""

from __future__ import annotations

from typing import Any

KeyLine = tuple[str, str]  # (keys as shown, what they do)
Section = tuple[str, list[KeyLine]]


def _allowed(app: Any, action: str) -> bool:
    target, _, name = action.rpartition(".")
    if target not in ("", "app"):
        return True  # a screen's own action: the screen shows it only where it works
    return bool(app.check_action(name.split("(")[0], ()))


def allowed(app: Any, lines: list[tuple[str, str, str]]) -> list[KeyLine]:
    """(keys, description, action) lines whose action the app allows now."""
    return [(keys, description) for keys, description, action in lines if _allowed(app, action)]


def from_bindings(app: Any, screen: Any) -> list[KeyLine]:
    lines = []
    for binding in getattr(screen, "BINDINGS", ()):
        if not getattr(binding, "description", "") or not _allowed(app, binding.action):
            continue
        keys = " / ".join(app.get_key_display(type(binding)(key.strip(), binding.action))
                          for key in binding.key.split(","))
        lines.append((keys, binding.description.lower()))
    return lines


def everywhere(app: Any) -> list[KeyLine]:
    lines = [("?", "these keys", "help"),
             ("m", "notifications: every one shown, newest first", "notifications"),
             ("H", "hosts: one host's list, or all in one", "hosts"),
             ("ctrl+p", "command palette: every action; themes (kept)", "command_palette"),
             ("q", "quit", "quit")]
    return allowed(app, lines)


def sections_for(app: Any, screen: Any) -> list[Section]:
    own = screen.key_help() if hasattr(screen, "key_help") else from_bindings(app, screen)
    title = getattr(screen, "HELP_TITLE", "") or "This screen"
    return [(title, own), ("Everywhere", everywhere(app))]
