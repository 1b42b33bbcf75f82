"""Taskspace ids and the names derived from them. Validated before any engine call."""

from __future__ import annotations

import re

from symposium_tui.core.errors import UsageError

MAX_LENGTH = 63  # a DNS label: the pod's hostname is the id
ID_PATTERN = re.compile(rf"[a-z0-9]([a-z0-9-]{{0,{MAX_LENGTH - 2}}}[a-z0-9])?")
POD_PREFIX = "taskspace-"


def is_valid_id(value: object) -> bool:
    """For ids read back from the engine's labels or the registry: skip what a person could not
    have created, rather than fail."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def validate_id(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError("a taskspace id is required")
    if ID_PATTERN.fullmatch(value):
        return value
    if len(value) <= 70 and value.isprintable():
        shown = value
    else:  # repr: control characters, bidi overrides and such are shown, not acted on
        shown = repr(value[:70]) + ("…" if len(value) > 70 else "")
    if len(value) > MAX_LENGTH:
        why = f"it is {len(value)} characters long (at most {MAX_LENGTH})"
    elif value != value.lower() and ID_PATTERN.fullmatch(value.lower()):
        why = "it has upper-case letters"
    elif value.startswith("-") or value.endswith("-"):
        why = "it starts or ends with a dash"
    else:
        bad = sorted({c for c in value if not re.fullmatch(r"[a-z0-9-]", c)})
        # Look-alikes (Cyrillic 'а', fullwidth 'ａ', zero-width joiners) are named by code point.
        why = "it contains " + ", ".join(repr(c) if c.isascii() else f"{c!r} (U+{ord(c):04X})"
                                         for c in bad[:5])
    raise UsageError(f"invalid taskspace id {shown}: {why}; use lower-case letters, digits and "
                     "dashes, starting and ending with a letter or digit (a DNS label, e.g. fix-login-2)")


def pod_name(taskspace: str) -> str:
    return POD_PREFIX + taskspace


def container_name(taskspace: str, role: str) -> str:
    return f"{POD_PREFIX}{taskspace}-{role}"


def volume_name(taskspace: str, role: str) -> str:
    return f"{POD_PREFIX}{taskspace}-{role}"
