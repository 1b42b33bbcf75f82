"""The SSH config file for taskspaces: `Host ID-dev` / `Host ID-agent` with their current ports.

Host keys are pinned per taskspace (HostKeyAlias in the product's own known_hosts, with
StrictHostKeyChecking accept-new) instead of the seed's /dev/null: a port reused by another
taskspace never silently gets trusted. The file is rendered whole from the registry, so writing it
is idempotent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.fsutil import atomic_write
from symposium_tui.core.hosts import LOCAL, valid_host_name
from symposium_tui.core.ids import is_valid_id

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


def _safe(value: str, spaces: bool = False) -> bool:
    """One value of an ssh config line: no quotes, control characters or '#' (and no spaces,
    unless it is written quoted)."""
    return bool(value) and all(c.isprintable() and (spaces and c == " " or not c.isspace()) and c not in "\"'#"
                               for c in value)


def _jump_block(jump: Jump, known_hosts: Path) -> str:
    for value, spaces in ((jump.host, False), (jump.hostname, False), (jump.user or "x", False),
                          (jump.identity or "x", True)):
        if not _safe(value, spaces):
            raise SymposiumError(f"cannot write an SSH config entry with {value!r}: quotes and control "
                                 "characters are not allowed in host names, users and key paths "
                                 "(nor spaces, but in key paths)")
    lines = [f"Host {jump.alias}", f"    HostName {jump.hostname}", f"    Port {int(jump.port)}"]
    if jump.user:
        lines.append(f"    User {jump.user}")
    if jump.identity:
        lines += [f'    IdentityFile "{jump.identity}"', "    IdentitiesOnly yes"]
    # The engine host's key: pinned by the product on first use, or known to the person already.
    lines += [f"    UserKnownHostsFile {known_hosts} ~/.ssh/known_hosts",
              "    StrictHostKeyChecking accept-new", "    HashKnownHosts no"]
    return "\n".join(lines) + "\n"


def render(entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path, *, host: str = LOCAL,
           jump: Jump | None = None, include: str | None = None) -> str:
    blocks = [HEADER + (f"Include {include}\n" if include else "")]
    if jump is not None:
        blocks.append(_jump_block(jump, known_hosts))
    for taskspace in sorted(entries):
        if not is_valid_id(taskspace) or not valid_host_name(host):
            continue  # a line of someone else's choosing never gets into an ssh config
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
                # Debian's ssh_config hashes known_hosts; forget_host_keys finds plain names only.
                f"    HashKnownHosts no\n"
                + (f"    ProxyJump {jump.alias}\n" if jump is not None else "")
            )
    return "\n".join(blocks)


def write(path: Path, entries: dict[str, dict[str, Any]], key: Path, known_hosts: Path, *,
          host: str = LOCAL, jump: Jump | None = None, include: str | None = None) -> None:
    text = render(entries, key, known_hosts, host=host, jump=jump, include=include)
    ensure_known_hosts(known_hosts)
    try:
        if path.read_text(encoding="utf-8") == text and path.stat().st_mode & 0o777 == 0o600:
            return
    except OSError:
        pass
    atomic_write(path, text, mode=0o600)


def ensure_known_hosts(path: Path) -> None:
    """The product's known_hosts exists, private, before any ssh writes to it: ssh would make it
    with the umask's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o777 != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


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
    """Drop the pinned keys of a removed taskspace: a new one with the same id has new keys.
    Plain entries are filtered here; hashed ones (HashKnownHosts, Debian's default for ssh run
    by hand) are found by ssh-keygen, which knows the hashing."""
    aliases = {host_alias(taskspace, role, host) for role in USERS}
    try:
        lines = known_hosts.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    kept = [line for line in lines if not set(line.split(" ", 1)[0].split(",")) & aliases]
    if kept != lines:
        atomic_write(known_hosts, "".join(kept), mode=0o600)
    if any(line.startswith("|1|") for line in kept) and shutil.which("ssh-keygen"):
        for alias in sorted(aliases):
            subprocess.run(["ssh-keygen", "-q", "-R", alias, "-f", str(known_hosts)],
                           capture_output=True, check=False, timeout=30)
        known_hosts.with_name(known_hosts.name + ".old").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(known_hosts, 0o600)


def include_line(path: Path) -> str:
    return f"Include {path}"
