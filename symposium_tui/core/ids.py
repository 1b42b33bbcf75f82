"""Taskspace ids and the names derived from them. Validated before any engine call."""

from __future__ import annotations

import re

from symposium_tui.core.errors import UsageError

ID_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
POD_PREFIX = "taskspace-"


def validate_id(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError("a taskspace id is required")
    if ID_PATTERN.fullmatch(value):
        return value
    shown = value if len(value) <= 70 and value.isprintable() else repr(value[:70]) + "…"
    if len(value) > 63:
        why = f"it is {len(value)} characters long (at most 63)"
    elif value != value.lower() and ID_PATTERN.fullmatch(value.lower()):
        why = "it has upper-case letters"
    elif value.startswith("-") or value.endswith("-"):
        why = "it starts or ends with a dash"
    else:
        bad = sorted({c for c in value if not re.fullmatch(r"[a-z0-9-]", c)})
        why = "it contains " + ", ".join(repr(c) for c in bad[:5])
    raise UsageError(f"invalid taskspace id {shown}: {why}; use lower-case letters, digits and "
                     "dashes, starting and ending with a letter or digit (a DNS label, e.g. fix-login-2)")


def pod_name(taskspace: str) -> str:
    return POD_PREFIX + taskspace


def container_name(taskspace: str, role: str) -> str:
    return f"{POD_PREFIX}{taskspace}-{role}"


def volume_name(taskspace: str, role: str) -> str:
    return f"{POD_PREFIX}{taskspace}-{role}"
