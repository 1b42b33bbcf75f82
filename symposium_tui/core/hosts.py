"""Engine hosts: this machine, podman's named connections, and the product's own `hosts:` list.

A host's name shows in the dashboard's host column, in `--connection NAME`, in the state kept per
host and in the SSH aliases of its taskspaces (`ID-dev.NAME`), so it is checked like an id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symposium_tui.core.errors import UsageError

LOCAL = "local"  # the engine found without a named connection
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class HostSpec:
    """Where one engine is: a named connection, or this machine's engine (uri None: discovered)."""

    name: str
    uri: str | None = None
    identity: str | None = None
    source: str = ""

    @property
    def remote(self) -> bool:
        return bool(self.uri) and not self.uri.startswith("unix:")

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "uri": self.uri, "source": self.source}


def valid_host_name(name: object) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_host_name(name: str, where: str = "--connection") -> str:
    if not valid_host_name(name):
        raise UsageError(f"{where} {name!r}: a host name is 1-63 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    return name


def pick(hosts: list[HostSpec], name: str) -> HostSpec:
    for host in hosts:
        if host.name == name:
            return host
    known = ", ".join([LOCAL] + [h.name for h in hosts])
    raise UsageError(f"--connection {name!r}: no such connection (known: {known}); add one with "
                     "`podman system connection add` or under hosts: in config.yaml")
