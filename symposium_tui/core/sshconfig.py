"""The SSH config file for taskspaces: `Host ID-dev` / `Host ID-agent` with their current ports.

Host keys are pinned per taskspace (HostKeyAlias in the product's own known_hosts, with
StrictHostKeyChecking accept-new) instead of the seed's /dev/null: a port reused by another
taskspace never silently gets trusted. The file is rendered whole from the registry, so writing it
is idempotent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.hosts import LOCAL

HEADER = "# Written by symposium-tui; changes are overwritten. Include it from ~/.ssh/config.\n"
USERS = {"dev": "developer", "agent": "agent"}


@dataclass(frozen=True)
class Jump:
    """The SSH server of a remote engine host: taskspaces there publish SSH on its loopback only,
    so people reach them through it (ProxyJump)."""

    host: str  # the engine host's name
    hostname: str
    port: int = 22
    user: str | None = None
    identity: str | None = None

    @property
    def alias(self) -> str:
        return f"symposium-jump.{self.host}"


def host_alias(taskspace: str, role: str, host: str = LOCAL) -> str:
    return f"{taskspace}-{role}" if host == LOCAL else f"{taskspace}-{role}.{host}"


def _jump_block(jump: Jump, known_hosts: Path) -> str:
    lines = [f"Host {jump.alias}", f"    HostName {jump.hostname}", f"    Port {int(jump.port)}"]
    if jump.user:
        lines.append(f"    User {jump.user}")
    if jump.identity:
        lines += [f"    IdentityFile {jump.identity}", "    IdentitiesOnly yes"]
    # The engine host's key: pinned by the product on first use, or known to the person already.
    lines += [f"    UserKnownHostsFile {known_hosts} ~/.ssh/known_hosts",
              "    StrictHostKeyChecking accept-new"]
    return "\n".join(lines) + "\n"


def render(entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path, *, host: str = LOCAL,
           jump: Jump | None = None, include: str | None = None) -> str:
    blocks = [HEADER + (f"Include {include}\n" if include else "")]
    if jump is not None:
        blocks.append(_jump_block(jump, known_hosts))
    for taskspace in sorted(entries):
        entry = entries[taskspace]
        for role in ("dev", "agent"):
            port = entry.get(f"{role}_port")
            if not port:
                continue
            alias = host_alias(taskspace, role, host)
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
                + (f"    ProxyJump {jump.alias}\n" if jump is not None else "")
            )
    return "\n".join(blocks)


def write(path: Path, entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path, *,
          host: str = LOCAL, jump: Jump | None = None, include: str | None = None) -> None:
    text = render(entries, key, known_hosts, host=host, jump=jump, include=include)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write(path, text, mode=0o600)


def ensure_main(path: Path, include: str) -> None:
    """Make the main file (the one people Include) if it is missing, so the other hosts' files it
    includes are found; never overwrites: this machine's registry writes its entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(HEADER + f"Include {include}\n")


def forget_host_keys(known_hosts: Path, taskspace: str, host: str = LOCAL) -> None:
    """Drop the pinned keys of a removed taskspace: a new one with the same id has new keys."""
    aliases = {host_alias(taskspace, role, host) for role in USERS}
    try:
        lines = known_hosts.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    kept = [line for line in lines if not set(line.split(" ", 1)[0].split(",")) & aliases]
    if kept != lines:
        atomic_write(known_hosts, "".join(kept), mode=0o600)


def include_line(path: Path) -> str:
    return f"Include {path}"
