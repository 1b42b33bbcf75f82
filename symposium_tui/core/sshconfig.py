"""The SSH config file for taskspaces: `Host ID-dev` / `Host ID-agent` with their current ports.

Host keys are pinned per taskspace (HostKeyAlias in the product's own known_hosts, with
StrictHostKeyChecking accept-new) instead of the seed's /dev/null: a port reused by another
taskspace never silently gets trusted. The file is rendered whole from the registry, so writing it
is idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from symposium_tui.core.fsutil import atomic_write

HEADER = "# Written by symposium-tui; changes are overwritten. Include it from ~/.ssh/config.\n"
USERS = {"dev": "developer", "agent": "agent"}


def host_alias(taskspace: str, role: str) -> str:
    return f"{taskspace}-{role}"


def render(entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path) -> str:
    blocks = [HEADER]
    for taskspace in sorted(entries):
        entry = entries[taskspace]
        for role in ("dev", "agent"):
            port = entry.get(f"{role}_port")
            if not port:
                continue
            alias = host_alias(taskspace, role)
            blocks.append(
                f"Host {alias}\n"
                f"    HostName 127.0.0.1\n"
                f"    Port {int(port)}\n"
                f"    User {USERS[role]}\n"
                f"    IdentityFile {key}\n"
                f"    IdentitiesOnly yes\n"
                f"    HostKeyAlias {alias}\n"
                f"    UserKnownHostsFile {known_hosts}\n"
                f"    StrictHostKeyChecking accept-new\n"
            )
    return "\n".join(blocks)


def write(path: Path, entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path) -> None:
    text = render(entries, key, known_hosts)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write(path, text, mode=0o644)


def forget_host_keys(known_hosts: Path, taskspace: str) -> None:
    """Drop the pinned keys of a removed taskspace: a new one with the same id has new keys."""
    aliases = {host_alias(taskspace, role) for role in USERS}
    try:
        lines = known_hosts.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    kept = [line for line in lines if not set(line.split(" ", 1)[0].split(",")) & aliases]
    if kept != lines:
        atomic_write(known_hosts, "".join(kept), mode=0o600)


def include_line(path: Path) -> str:
    return f"Include {path}"
