"""The dashboard's own preferences (the theme), kept in ui.json in the config dir.

Not config.yaml: that file is the person's, written by hand and read by the CLI too; this one the
dashboard writes itself whenever a preference changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.paths import app_paths

FILE_NAME = "ui.json"


def preferences_path() -> Path:
    return app_paths().config_dir / FILE_NAME


def load_preferences() -> dict[str, object]:
    """What was saved; nothing when the file is missing or not ours to read (a broken file
    must not keep the dashboard from opening)."""
    try:
        data = json.loads(preferences_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_preference(key: str, value: object) -> str | None:
    """Saves one preference beside the others; the reason when it could not be written."""
    preferences = load_preferences()
    if preferences.get(key) == value:
        return None
    preferences[key] = value
    try:
        atomic_write(preferences_path(), json.dumps(preferences, indent=2, sort_keys=True) + "\n", mode=0o644)
    except SymposiumError as exc:
        return exc.message
    return None
