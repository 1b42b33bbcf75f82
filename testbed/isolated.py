"""An isolated podman engine: private store, run dir, network configs and socket.

Tests and benchmarks run against one of these, never the person's own pods. Everything it made
(containers, pods, volumes, networks, mounts, processes, files) is removed by `destroy()`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.backends.podman import hostfix
from symposium_tui.backends.podman.adapter import Engine
from symposium_tui.backends.podman.connection import podman_binary
from symposium_tui.backends.podman.service import PodmanService


BACKENDS = ("netavark", "cni")


class IsolatedEngine:
    def __init__(self, base_dir: Path | None = None, network_backend: str = "netavark",
                 hide_helpers: tuple[str, ...] = (), image_store: Path | None = None,
                 root: Path | None = None) -> None:
        """hide_helpers: binaries the service must not find (as on a machine without them).
        image_store: another engine's store whose images this one uses, read-only (podman's
        additional image stores): its images need not be copied. root: a store of its own that
        outlives it (destroy() keeps it): the tests' cache of built images."""
        if network_backend not in BACKENDS:
            raise ValueError(f"unknown network backend {network_backend!r}")
        self.network_backend = network_backend
        binary = podman_binary()
        if binary is None:
            raise EngineUnavailable("podman is not installed", hint="apt-get install podman runc")
        self.dir = base_dir or Path(tempfile.mkdtemp(prefix="symposium-engine-", dir="/tmp"))
        self.kept_root = root
        self.root = root or self.dir / "root"
        self.runroot = self.dir / "run"
        self.conf = self.dir / "containers.conf"
        fix = hostfix.fixes_for(hostfix.HostQuirks.detect(), network_backend)
        if fix.problems:
            raise EngineUnavailable("; ".join(fix.problems))
        self.network = self._private_network()
        overrides = hostfix.deep_merge(fix.overrides, {
            "network": {"network_config_dir": str(self.dir / "networks"), "default_network": self.network},
            "engine": {"tmp_dir": str(self.dir / "tmp"), "volume_path": str(self.root / "volumes")},
        })
        env = {}
        # storage.conf's additionalimagestores are dropped once --root is given: the overlay
        # driver's own option it is.
        self.global_args = ("--storage-opt", f"overlay.imagestore={image_store}") if image_store else ()
        if hide_helpers:
            path, helpers = self._without(hide_helpers)
            overrides = hostfix.deep_merge(overrides, {"engine": {"helper_binaries_dir": [helpers]}})
            env["PATH"] = path
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(hostfix.merged_conf(hostfix.system_conf_files(), overrides))
        self.service = PodmanService(binary, socket_dir=self.dir, containers_conf=self.conf,
                                     root=self.root, runroot=self.runroot, env=env, global_args=self.global_args)
        self.binary = binary

    def _without(self, hidden: tuple[str, ...]) -> tuple[str, str]:
        """A PATH and a helper dir of links to everything the service would find, less HIDDEN."""
        bin_dir, helpers = self.dir / "bin", self.dir / "helpers"
        for target, sources in ((bin_dir, os.environ.get("PATH", "").split(os.pathsep)),
                                (helpers, list(hostfix.HELPER_DIRS))):
            target.mkdir(parents=True, exist_ok=True)
            for source in sources:
                if not source or not Path(source).is_dir():
                    continue
                for entry in Path(source).iterdir():
                    link = target / entry.name
                    if entry.name not in hidden and not link.exists() and entry.is_file():
                        link.symlink_to(entry)
        return str(bin_dir), str(helpers)

    def _private_network(self) -> str:
        """A default network of this engine's own: podman's implicit default ("podman", bridge
        podman0, a fixed id) would share its bridge and firewall chains with the host's engine,
        and setting it up or tearing it down would disturb the person's own pods."""
        token = secrets.token_hex(3)
        name = f"symtest-{token}"
        third = free_third_octet()
        subnet, gateway, bridge = f"10.89.{third}.0/24", f"10.89.{third}.1", f"symt{token}"
        self.gateway = gateway  # this machine, as the engine's containers reach it
        networks = self.dir / "networks"
        networks.mkdir(parents=True, exist_ok=True)
        if self.network_backend == "cni":
            (networks / f"{name}.conflist").write_text(json.dumps(cni_conflist(name, bridge, subnet, gateway),
                                                                   indent=1))
            return name
        config = {
            "name": name, "id": secrets.token_hex(32), "driver": "bridge",
            "network_interface": bridge, "created": "2026-01-01T00:00:00Z",
            "subnets": [{"subnet": subnet, "gateway": gateway}],
            "ipv6_enabled": False, "internal": False, "dns_enabled": False,
            "ipam_options": {"driver": "host-local"},
        }
        (networks / f"{name}.json").write_text(json.dumps(config, indent=1))
        return name

    @property
    def uri(self) -> str:
        return self.service.uri

    def start(self) -> IsolatedEngine:
        reap_stale(self.binary, keep=self.dir)
        remove_orphaned_rules()
        remove_orphaned_bridges(keep=self.dir)
        self.service.start()
        return self

    def engine(self, timeout: float = 60.0) -> Engine:
        return Engine(self.uri, timeout=timeout, source="isolated engine")

    def cli_prefix(self) -> list[str]:
        """podman on the same private store (its CONTAINERS_CONF is in service.environment())."""
        return [self.binary, "--root", str(self.root), "--runroot", str(self.runroot), *self.global_args]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The podman CLI on the same private store (for assertions and baselines)."""
        return subprocess.run([*self.cli_prefix(), *args], capture_output=True, text=True, check=check,
                              env=self.service.environment())

    def remove_everything(self) -> None:
        """Remove every pod, container, volume and network on this engine (not images)."""
        for args in (["pod", "rm", "--all", "--force", "--time", "0"],
                     ["rm", "--all", "--force", "--time", "0"],
                     ["volume", "rm", "--all", "--force"], ["network", "prune", "--force"]):
            self.cli(*args, check=False)

    def destroy(self) -> None:
        bridges = [bridge for _, _, bridge in _private_networks(self.dir / "networks")]
        if self.service.running:
            self.remove_everything()
        self.service.stop()
        for bridge in bridges:  # what a failed test's isolated taskspace left in the firewall
            _remove_taskspace_rules(bridge)
            _remove_bridge(bridge)  # podman leaves it, with its route to the subnet
        self._unmount()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.kept_root is not None:
            self._unmount(self.kept_root)

    def _unmount(self, under: Path | None = None) -> None:
        prefix = str(under or self.dir)
        with open("/proc/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def cni_conflist(name: str, bridge: str, subnet: str, gateway: str) -> dict[str, object]:
    """A bridge network in the form podman's CNI backend writes (c/common libnetwork/cni)."""
    return {
        "cniVersion": "0.4.0", "name": name,
        "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "hairpinMode": True,
             "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],
                      "ranges": [[{"subnet": subnet, "gateway": gateway}]]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall", "backend": ""},
            {"type": "tuning"},
        ],
    }


STALE_AFTER = 120.0  # seconds: a younger engine dir may still be starting


def reap_stale(binary: str, keep: Path, parent: Path = Path("/tmp")) -> list[Path]:
    """Remove what isolated engines of killed processes left: their containers (still running
    under conmon), mounts and files. An engine whose service still answers is left alone."""
    import time

    from symposium_tui.backends.podman.connection import unix_socket_answers

    reaped = []
    for directory in parent.glob("symposium-engine-*"):
        if directory == keep or not (directory / "root").is_dir():
            continue
        try:
            if time.time() - directory.stat().st_mtime < STALE_AFTER:
                continue
        except OSError:
            continue
        if unix_socket_answers(str(directory / "podman.sock"), timeout=0.5) is None:
            continue
        env = {k: v for k, v in os.environ.items() if k not in ("CONTAINER_HOST", "CONTAINER_CONNECTION")}
        if (directory / "containers.conf").exists():
            env["CONTAINERS_CONF"] = str(directory / "containers.conf")
        base = [binary, "--root", str(directory / "root"), "--runroot", str(directory / "run")]
        for args in (["pod", "rm", "--all", "--force", "--time", "0"], ["rm", "--all", "--force", "--time", "0"]):
            subprocess.run([*base, *args], capture_output=True, env=env, check=False, timeout=120)
        stale = IsolatedEngine.__new__(IsolatedEngine)
        stale.dir = directory
        stale._unmount()
        remove_firewall_rules(directory / "networks")
        shutil.rmtree(directory, ignore_errors=True)
        reaped.append(directory)
    return reaped


def _private_networks(config_dir: Path) -> list[tuple[str, list[str], str]]:
    """(name, subnets, bridge) of the networks an isolated engine defined: its own default one
    and those the product made in it (taskspaces' own networks); the directory is the engine's.
    netavark keeps NAME.json files there, CNI NAME.conflist ones."""
    found = []
    for path in [*config_dir.glob("*.json"), *config_dir.glob("*.conflist")]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if path.suffix == ".conflist":
            bridge = next((p for p in data.get("plugins") or [] if isinstance(p, dict)
                           and p.get("type") == "bridge"), {})
            ranges = (bridge.get("ipam") or {}).get("ranges") or []
            subnets = [r["subnet"] for group in ranges for r in group if isinstance(r, dict) and "subnet" in r]
            found.append((data.get("name", ""), subnets, bridge.get("bridge", "")))
        else:
            found.append((data.get("name", ""),
                          [s["subnet"] for s in data.get("subnets") or [] if "subnet" in s],
                          data.get("network_interface", "")))
    return [n for n in found if n[0]]


def remove_firewall_rules(config_dir: Path) -> int:
    """Delete the netavark rules a killed engine left for its private networks (port forwards and
    forwarding/masquerade by subnet), so none of its old port forwards can capture a host port
    handed out later. Only rules naming those networks or subnets are touched."""

    if shutil.which("iptables") is None:
        return 0
    removed = 0
    for name, subnets, bridge in _private_networks(config_dir):
        removed += _remove_taskspace_rules(bridge)
        removed += _remove_network_rules(name, subnets)
    return removed


# netavark comments its port forwards `dnat name: NET id: ...`, CNI `dnat name: "NET" id: ...`
# (`iptables -S` prints the quotes escaped); CNI tags its other per-container rules `name: "NET"`.
_NAMED = r'(?:dnat )?name: (?:\\?")?({name})(?:\\?")? '
SHARED_CHAINS = frozenset({"NETAVARK-HOSTPORT-DNAT", "NETAVARK-HOSTPORT-MASQ", "NETAVARK-HOSTPORT-SETMARK",
                           "NETAVARK_FORWARD", "CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ",
                           "CNI-HOSTPORT-SETMARK", "CNI-FORWARD", "CNI-ADMIN"})


def forwarded_ports(network: str) -> set[int]:
    """Host ports the engine's network backend forwards into NETWORK (netavark or CNI rules)."""
    import re

    listing = subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True,
                             check=True).stdout
    named = re.compile(_NAMED.format(name=re.escape(network)))
    ports: set[int] = set()
    for line in listing.splitlines():
        if line.startswith("-A ") and "dnat name:" in line and named.search(line):
            for group in re.findall(r"--dports? ([\d,:]+)", line):
                ports |= {int(p) for p in group.replace(":", ",").split(",") if p}
    return ports


def _routed_third_octets() -> set[int]:
    """X of every 10.89.X.0/24 this machine routes somewhere (/proc/net/route, little-endian hex)."""
    used = set()
    try:
        lines = Path("/proc/net/route").read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return used
    for line in lines:
        fields = line.split()
        if len(fields) > 7:
            try:
                destination = int(fields[1], 16).to_bytes(4, "little")
            except ValueError:
                continue
            if destination[:2] == bytes((10, 89)):
                used.add(destination[2])
    return used


def free_third_octet() -> int:
    """A subnet 10.89.X.0/24 no interface here has: a second bridge with the same subnet (one a
    killed engine left) would take the route, and the new one's containers would never answer."""
    free = sorted(set(range(100, 250)) - _routed_third_octets())
    if not free:
        raise RuntimeError("every 10.89.100-249.0/24 subnet is routed on this machine")
    return free[secrets.randbelow(len(free))]


def _remove_bridge(bridge: str) -> None:
    if bridge.startswith("symt") and (Path("/sys/class/net") / bridge).exists() and shutil.which("ip"):
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True, check=False)


def remove_orphaned_bridges(keep: Path, parent: Path = Path("/tmp")) -> list[str]:
    """Bridges of test engines (`symt*`) whose engine directory is gone."""
    live = {bridge for directory in [*parent.glob("symposium-engine-*"), keep]
            for _, _, bridge in _private_networks(directory / "networks")}
    try:
        present = [p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith("symt")]
    except OSError:
        return []
    gone = sorted(set(present) - live)
    for bridge in gone:
        _remove_bridge(bridge)
    return gone


def remove_orphaned_rules(parent: Path = Path("/tmp")) -> int:
    """Port forwards of test-engine networks (`symtest-*`) whose engine directory is gone: nothing
    can remove them any more, and one would capture its host port when podman hands it out again."""
    import re

    if shutil.which("iptables") is None:
        return 0
    live = {name for directory in parent.glob("symposium-engine-*")
            for name, _, _ in _private_networks(directory / "networks")}
    listing = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    orphans = set(re.findall(_NAMED.format(name="symtest-[0-9a-f]+"), listing)) - live
    return sum(_remove_network_rules(name, []) for name in sorted(orphans))


def _in_subnets(words: list[str], subnets: list[str]) -> bool:
    import ipaddress

    nets = [ipaddress.ip_network(s, strict=False) for s in subnets]
    for flag in ("-s", "-d"):
        if flag in words[:-1]:
            try:
                address = ipaddress.ip_network(words[words.index(flag) + 1], strict=False)
            except ValueError:
                continue
            if any(address.version == net.version and address.subnet_of(net) for net in nets):
                return True
    return False


def _remove_network_rules(name: str, subnets: list[str]) -> int:
    """The backend's rules for one network (netavark's or CNI's): its port forwards and other rules
    naming it, forwarding and masquerading by its subnets or addresses in them, and the
    per-network or per-container chains they jump to."""
    import re
    import shlex

    named = re.compile(_NAMED.format(name=re.escape(name)))
    removed = 0
    for table in ("nat", "filter"):
        listing = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout
        chains = set()
        for line in listing.splitlines():
            if not line.startswith("-A "):
                continue
            words = shlex.split(line)
            if not (named.search(line) or _in_subnets(words, subnets)):
                continue
            if "-j" in words and words[words.index("-j") + 1].startswith(("NETAVARK-", "CNI-")):
                chains.add(words[words.index("-j") + 1])
            if subprocess.run(["iptables", "-t", table, "-D", *words[1:]], capture_output=True).returncode == 0:
                removed += 1
        for chain in chains - SHARED_CHAINS:
            still_used = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True,
                                        text=True).stdout.count(f"-j {chain}")
            if not still_used:
                subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True)
                subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True)
    return removed


def _remove_taskspace_rules(bridge: str) -> int:
    """The product's firewall rules (core.security) for a bridge of this engine: the jumps naming
    it, and the chains they jump to."""
    import shlex

    if not bridge.startswith("sym") or shutil.which("iptables") is None:
        return 0
    listing = subprocess.run(["iptables", "-t", "mangle", "-S"], capture_output=True, text=True).stdout
    removed, chains = 0, set()
    for line in listing.splitlines():
        words = shlex.split(line)
        if line.startswith("-A ") and bridge in words and "-j" in words and \
                words[words.index("-j") + 1].startswith("SYMPOSIUM-"):
            chains.add(words[words.index("-j") + 1])
            removed += subprocess.run(["iptables", "-t", "mangle", "-D", *words[1:]],
                                      capture_output=True).returncode == 0
    for chain in chains:
        subprocess.run(["iptables", "-t", "mangle", "-F", chain], capture_output=True)
        subprocess.run(["iptables", "-t", "mangle", "-X", chain], capture_output=True)
    return removed
