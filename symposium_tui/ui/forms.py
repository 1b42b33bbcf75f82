"""Pieces of the dashboard's forms: field-named validation messages, tiers with their values.

The core's parsers were written for the CLI and name its flags ("--repo '/x': no such directory");
a form names its fields ("Repository '/x': no such directory").
"""

from __future__ import annotations

import re

from rich.text import Text

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import HostCapacity
from symposium_tui.core.policy import Limits
from symposium_tui.core.units import format_cpu, format_size

_FLAG = re.compile(r"--[a-z][a-z-]*\b")
# validate_id speaks of "a taskspace id" / "invalid taskspace id X": the field is the id.
_ID = re.compile(r"^(a taskspace id|invalid taskspace id)\b")


def field_message(field: str | None, error: SymposiumError | str, fields: dict[str, str] | None = None) -> str:
    """The message with the CLI flag it names replaced by the field's name (`fields` maps the
    flags of a form with several); one that names no flag starts with `field`, if given."""
    message = error.message if isinstance(error, SymposiumError) else str(error)
    if flag := _FLAG.search(message):
        name = (fields or {}).get(flag.group(0), field or flag.group(0))
        return message[:flag.start()] + name + message[flag.end():]
    if field is None:
        return message
    if _ID.match(message):
        return _ID.sub(field, message, count=1)
    return f"{field}: {message}"


def beyond_host(limits: Limits, capacity: HostCapacity | None) -> str:
    """Why the engine's host cannot give these limits ("" when it can, or is not known yet)."""
    if capacity is None:
        return ""
    reasons = []
    if capacity.cpus and limits.cpu > capacity.cpus * 1000:
        reasons.append(f"cpu {format_cpu(limits.cpu)}, the host has {capacity.cpus} CPUs")
    if capacity.memory and limits.memory > capacity.memory:
        reasons.append(f"memory {format_size(limits.memory)}, the host has {capacity.memory / 2**30:.1f} GiB")
    return "; ".join(reasons)


def tier_option(name: str, limits: Limits, capacity: HostCapacity | None) -> Text:
    text = Text(f"{name} · {format_size(limits.memory)}, cpu {format_cpu(limits.cpu)}, "
                f"{format_size(limits.storage)} disk")
    if beyond_host(limits, capacity):
        text.append(" · too big for this host", style="bold red")
    return text


def tier_info(name: str, limits: Limits, capacity: HostCapacity | None) -> Text:
    text = Text(f"tier {name}: {limits.describe()}")
    if why := beyond_host(limits, capacity):
        text.append(f" — too big for this host: {why}", style="bold red")
    return text
