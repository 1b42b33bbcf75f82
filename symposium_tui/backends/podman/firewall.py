"""The host's firewall, through iptables (what netavark and CNI use on these hosts): apply, check and
remove one taskspace's rules (core.security builds them), never touching anyone else's."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.security import TABLE, AllowRule, FirewallPlan, chain_name, owned_jumps

WAIT = ("-w", "10")  # iptables' own lock: wait for other writers (netavark, other taskspaces)


def unavailable() -> str | None:
    """Why this process cannot manage firewall rules, or None."""
    if os.geteuid() != 0:
        return "isolated and restricted taskspaces need root: their firewall rules are set with iptables"
    if shutil.which("iptables") is None or shutil.which("iptables-restore") is None:
        return "iptables is not installed (apt-get install iptables)"
    return None


def resolve(rules: tuple[AllowRule, ...]) -> tuple[tuple[str, int | None, str], ...]:
    """Allow-list entries with host names resolved to IPv4 addresses, now (when the rules are made)."""
    resolved: list[tuple[str, int | None, str]] = []
    for rule in rules:
        if not rule.is_name:
            resolved.append((rule.host, rule.port, rule.proto))
            continue
        try:
            infos = socket.getaddrinfo(rule.host, None, socket.AF_INET)
        except OSError as exc:
            raise SymposiumError(f"restricted allow-list: cannot resolve {rule.host!r}: {exc}") from None
        for address in sorted({info[4][0] for info in infos}):
            resolved.append((address, rule.port, rule.proto))
    return tuple(resolved)


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=60, check=False)


class Firewall:
    def apply(self, plan: FirewallPlan) -> None:
        """Replace the taskspace's rules by the plan, in one iptables-restore (all or nothing)."""
        why = unavailable()
        if why:
            raise SymposiumError(why)
        self.remove(plan.taskspace)
        result = _run("iptables-restore", *WAIT, "--noflush", stdin=plan.restore_script())
        if result.returncode != 0:
            raise SymposiumError(f"iptables refused the rules of {plan.taskspace}: {result.stderr.strip()}")

    def apply_inside(self, pid: int, plan: FirewallPlan, container_id: str) -> None:
        """The plan's fast refusals in the network namespace of process PID, the pod's infra
        container CONTAINER_ID. Both come from the engine: the process must be that container's
        (its cgroup names it) and its namespace must not be this machine's own, whose filter
        table iptables-restore would replace."""
        why = unavailable()
        if why:
            raise SymposiumError(why)
        if not own_container_namespace(pid, container_id):
            raise SymposiumError(f"process {pid} is not in a network namespace of the pod's own")
        result = _run("nsenter", f"--net=/proc/{int(pid)}/ns/net", "iptables-restore", *WAIT,
                      stdin=plan.inside_script())
        if result.returncode != 0:
            raise SymposiumError(f"iptables in the pod of {plan.taskspace} refused its rules: "
                                 f"{result.stderr.strip()[:300]}")

    def listing(self) -> str:
        result = _run("iptables", *WAIT, "-t", TABLE, "-S")
        if result.returncode != 0:
            raise SymposiumError(f"cannot read the firewall rules: {result.stderr.strip()}")
        return result.stdout

    def present(self, plan: FirewallPlan) -> bool:
        """Every rule of the plan is in place (nothing removed them: a reboot, a flush)."""
        listing = self.listing()
        if f"-N {plan.chain}" not in listing.splitlines():
            return False
        rules = [line for line in listing.splitlines() if line.startswith(f"-A {plan.chain} ")]
        return len(rules) == len(plan.rules) and len(owned_jumps(listing, plan.taskspace)) == len(plan.jumps)

    def remove(self, taskspace: str) -> int:
        """Delete the taskspace's jumps and chain; returns how many rules went."""
        if unavailable():
            return 0
        listing = self.listing()
        removed = 0
        for _, line in owned_jumps(listing, taskspace):
            args = _split(line)
            result = _run("iptables", *WAIT, "-t", TABLE, "-D", *args[1:])
            removed += result.returncode == 0
        chain = chain_name(taskspace)
        if f"-N {chain}" in listing.splitlines():
            removed += sum(line.startswith(f"-A {chain} ") for line in listing.splitlines())
            _run("iptables", *WAIT, "-t", TABLE, "-F", chain)
            _run("iptables", *WAIT, "-t", TABLE, "-X", chain)
        return removed

    def taskspaces(self) -> set[str]:
        """The taskspaces that have rules in the firewall."""
        import re

        return {m.group(1) for _, line in owned_jumps(self.listing())
                if (m := re.search(r'taskspace=([^" ]+)', line))}


def _split(line: str) -> list[str]:
    import shlex

    return shlex.split(line)


def own_container_namespace(pid: int, container_id: str) -> bool:
    """PID belongs to the container (by its cgroup) and has a network namespace apart from ours
    and from init's."""
    if not (container_id.isalnum() and len(container_id) >= 12):
        return False
    try:
        with open(f"/proc/{int(pid)}/cgroup", encoding="ascii", errors="replace") as cgroup:
            if container_id not in cgroup.read(65536):
                return False
        theirs = os.stat(f"/proc/{int(pid)}/ns/net").st_ino
        if theirs == os.stat("/proc/self/ns/net").st_ino:
            return False
    except OSError:
        return False
    try:
        return theirs != os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return True  # init's is not ours to read here (a sandbox): ours was compared
