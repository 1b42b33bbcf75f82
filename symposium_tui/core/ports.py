"""What listens inside a taskspace: the kernel's socket tables (/proc/net/tcp and tcp6) as a
container's own process reads them (both containers share the pod's network, so one table
holds what either listens on), parsed as untrusted text (a line that is not the kernel's
shape is skipped; at most MAX_LINES lines, MAX_BYTES bytes)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT

LISTEN = "0A"
MAX_BYTES = 1 << 20
MAX_LINES = 20_000
OURS = {DEV_SSH_PORT: "the dev container's sshd", AGENT_SSH_PORT: "the agent container's sshd"}


@dataclass(frozen=True, order=True)
class Listening:
    port: int
    address: str  # 0.0.0.0, 127.0.0.1, ::, ::1 ...

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def as_dict(self) -> dict[str, object]:
        return {"port": self.port, "address": self.address, "loopback_only": self.loopback_only,
                "ours": self.port in OURS}


def _address(hex_address: str) -> str | None:
    """The kernel's hex form: IPv4 as one little-endian word, IPv6 as four."""
    try:
        raw = bytes.fromhex(hex_address)
    except ValueError:
        return None
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    if len(raw) == 16:
        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        address = ipaddress.IPv6Address(words)
        return str(address.ipv4_mapped or address)
    return None


def parse_listening(text: str) -> list[Listening]:
    """The listening TCP sockets in the tables' text (both files, one after the other), each port
    and address once, in port order."""
    found: set[Listening] = set()
    for line in text[:MAX_BYTES].splitlines()[:MAX_LINES]:
        fields = line.split()
        if len(fields) < 4 or not fields[0].rstrip(":").isdigit() or fields[3] != LISTEN:
            continue
        address, _, port = fields[1].partition(":")
        if len(port) != 4 or not all(c in "0123456789ABCDEFabcdef" for c in port):
            continue
        where = _address(address)
        number = int(port, 16)
        if where is not None and 0 < number < 65536:
            found.add(Listening(number, where))
    return sorted(found)
