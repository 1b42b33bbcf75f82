"""Network security levels and the firewall rules that make them true (pure: no I/O here).

- open: podman's default network.
- isolated: the taskspace's own bridge network, and rules that drop every connection it opens
  (to the internet, the host, other taskspaces) and every connection to it, except replies and the
  connections podman forwards from its published 127.0.0.1 SSH ports. Its two containers share the
  pod's network namespace, so they still talk to each other.
- restricted: the same, plus connections out to the allow-list in config.yaml.

Why not podman's `--internal` network: on this host's podman 4.3 a pod on an internal
network gets no port forwarding at all, so its published SSH ports never answer.

The rules live in one chain per taskspace in the `mangle` table, which neither of podman's
network backends (netavark, CNI) uses, so neither orders the other's rules away; every jump into it carries the taskspace's comment, and
only those are ever removed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

LEVELS = ("isolated", "restricted", "open")
TABLE = "mangle"
COMMENT_PREFIX = "symposium-tui taskspace="
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class AllowRule:
    """One allow-list entry: HOST[:PORT][/tcp|/udp], HOST an IPv4 address, CIDR or host name."""

    host: str
    port: int | None = None
    proto: str = "tcp"

    @property
    def is_name(self) -> bool:
        try:
            ipaddress.IPv4Network(self.host, strict=False)
            return False
        except ValueError:
            return True

    def describe(self) -> str:
        return self.host + (f":{self.port}" if self.port else "") + ("/udp" if self.proto == "udp" else "")


ALLOW_FORMAT = "HOST[:PORT][/tcp|/udp] (HOST an IPv4 address, CIDR or host name, e.g. 10.0.0.0/8:443)"


def parse_allow(entry: object) -> AllowRule:
    """Raise ValueError saying what is wrong with the entry (see ALLOW_FORMAT)."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError(f"{entry!r} is not a text entry")
    text = entry.strip()
    proto = "tcp"
    if text.endswith(("/tcp", "/udp")):
        text, proto = text[:-4], text[-3:]
    port = None
    if ":" in text:
        text, _, port_text = text.rpartition(":")
        if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{entry!r}: the port must be 1-65535")
        port = int(port_text)
    if re.fullmatch(r"[0-9./]+", text):
        try:
            network = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r}: {text!r} is not an IPv4 address or CIDR") from None
        text = str(network.network_address) if network.prefixlen == 32 else str(network)
    elif not _HOSTNAME.match(text):
        raise ValueError(f"{entry!r}: {text!r} is not a host name")
    return AllowRule(text, port, proto)


def chain_name(taskspace: str) -> str:
    """At most 28 characters (iptables' limit), the same for the same id, unlike any of netavark's."""
    return "SYMPOSIUM-" + hashlib.sha256(taskspace.encode()).hexdigest()[:12].upper()


def comment(taskspace: str) -> str:
    return COMMENT_PREFIX + taskspace


@dataclass(frozen=True)
class FirewallPlan:
    """iptables arguments (after `-t TABLE`): the taskspace's chain and the jumps into it."""

    taskspace: str
    chain: str
    rules: tuple[tuple[str, ...], ...]
    jumps: tuple[tuple[str, ...], ...]
    inside: tuple[tuple[str, ...], ...] = ()  # the pod's own OUTPUT rules (see inside_script)

    def inside_script(self) -> str:
        """For `iptables-restore` in the pod's network namespace, which nothing else uses: the
        connections the host's rules would drop are refused at once there (a TCP reset, an ICMP
        unreachable), so a program in the taskspace fails fast instead of waiting for a time-out.
        The host's rules stay what enforces the level; these only make it quick to see."""
        lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
        lines += [" ".join(_quote(a) for a in ("-A", "OUTPUT", *rule)) for rule in self.inside]
        return "\n".join([*lines, "COMMIT", ""])

    def restore_script(self) -> str:
        """Input for `iptables-restore --noflush`: all of it is applied, or none."""
        lines = [f"*{TABLE}", f":{self.chain} - [0:0]"]
        lines += [" ".join(_quote(a) for a in ("-A", self.chain, *rule)) for rule in self.rules]
        lines += [" ".join(_quote(a) for a in ("-I", *jump)) for jump in self.jumps]
        return "\n".join([*lines, "COMMIT", ""])


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


BRIDGE_NAME = re.compile(r"sym[0-9a-f]{8}")  # what the product names a taskspace's bridge


def firewall_plan(taskspace: str, level: str, bridge: str,
                  allowed: tuple[tuple[str, int | None, str], ...] = ()) -> FirewallPlan:
    """allowed: resolved (address or CIDR, port, proto) destinations, for restricted only.
    bridge: as the engine reports it, so only a name the product chose is taken (anything else
    could carry lines of its own into the iptables-restore input)."""
    if level == "open":
        raise ValueError("the open level has no firewall rules")
    if not BRIDGE_NAME.fullmatch(bridge):
        raise ValueError(f"the engine names the bridge of {taskspace} {bridge[:40]!r}, not a name "
                         "symposium-tui gave it")
    chain = chain_name(taskspace)
    rules: list[tuple[str, ...]] = [
        ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"),
        # podman's forwards from the published 127.0.0.1 ports are the only DNAT to this network
        ("-o", bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN"),
    ]
    if level == "restricted":
        for destination, port, proto in allowed:
            rule = ("-i", bridge, "-d", destination, "-p", proto)
            rules.append(rule + (("--dport", str(port)) if port else ()) + ("-j", "RETURN"))
    rules.append(("-j", "DROP"))
    tag = ("-m", "comment", "--comment", comment(taskspace), "-j", chain)
    jumps = (("INPUT", "1", "-i", bridge, *tag), ("FORWARD", "1", "-i", bridge, *tag),
             ("FORWARD", "1", "-o", bridge, *tag), ("POSTROUTING", "1", "-o", bridge, *tag))
    inside: list[tuple[str, ...]] = [("-o", "lo", "-j", "ACCEPT"),
                                     ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")]
    for destination, port, proto in allowed if level == "restricted" else ():
        inside.append(("-d", destination, "-p", proto) + (("--dport", str(port)) if port else ()) + ("-j", "ACCEPT"))
    inside += [("-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"),
               ("-j", "REJECT", "--reject-with", "icmp-port-unreachable")]
    return FirewallPlan(taskspace, chain, tuple(rules), jumps, tuple(inside))


def owned_jumps(rules_listing: str, taskspace: str | None = None) -> list[tuple[str, str]]:
    """(builtin chain, `-A ...` line) of the jumps symposium-tui made, from `iptables -S` output;
    only lines carrying our comment (for one taskspace, when given)."""
    found = []
    for line in rules_listing.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "-A" or COMMENT_PREFIX not in line:
            continue
        match = re.search(r'--comment "?' + re.escape(COMMENT_PREFIX) + r'([^" ]+)"?', line)
        if match and (taskspace is None or match.group(1) == taskspace):
            found.append((parts[1], line))
    return found
