"""The test harness's own hygiene: engines of killed processes are reaped by the next one."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symposium_tui.backends.podman.connection import podman_binary, unix_socket_answers
from testbed.isolated import BACKENDS, forwarded_ports, reap_stale
from tests.helpers import wait_until

pytestmark = pytest.mark.engine

STARTER = """
import sys
from testbed.isolated import IsolatedEngine
iso = IsolatedEngine(network_backend=sys.argv[1]).start()
iso.cli("volume", "create", "leftover")
iso.cli("pod", "create", "--name", "leftover", "-p", "127.0.0.1::2222")
iso.cli("pod", "start", "leftover")
print(iso.dir, flush=True)
import time; time.sleep(300)
"""


def nat_rules() -> str:
    return subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_sessions_engine_is_reaped(backend):
    proc = subprocess.Popen([sys.executable, "-c", STARTER, backend], stdout=subprocess.PIPE, text=True)
    directory = Path(proc.stdout.readline().strip())
    try:
        assert (directory / "root").is_dir()
        network = next((directory / "networks").glob("symtest-*.*")).stem
        assert forwarded_ports(network)  # its port forward is in the host's firewall
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # its service dies with it (PDEATHSIG), a moment later; only then is the engine stale
        wait_until(lambda: unix_socket_answers(str(directory / "podman.sock"), 0.5) is not None,
                   10, "the killed session's service to stop")
        old = time.time() - 3600
        os.utime(directory, (old, old))
        assert directory in reap_stale(podman_binary(), keep=Path("/nowhere"))
        assert not directory.exists()
        assert str(directory) not in Path("/proc/mounts").read_text()
        assert network not in nat_rules()  # and no rule of its network is left behind
    finally:
        proc.kill()


def test_leftover_firewall_rules_of_a_private_network_are_removed(tmp_path):
    import json

    from testbed.isolated import remove_firewall_rules

    name, subnet, chain = "symtest-feed01", "10.89.254.0/24", "NETAVARK-DN-SYMTESTFEED"
    (tmp_path / f"{name}.json").write_text(json.dumps({"name": name, "subnets": [{"subnet": subnet}]}))
    iptables = lambda *args: subprocess.run(["iptables", *args], capture_output=True, text=True)  # noqa: E731
    parent = "SYMTEST-PARENT"  # stands in for netavark's shared chains, which a fresh host may lack
    iptables("-t", "nat", "-N", parent)
    iptables("-N", parent)
    iptables("-t", "nat", "-N", chain)
    iptables("-t", "nat", "-A", chain, "-d", "127.0.0.1/32", "-p", "tcp", "--dport", "1", "-j", "DNAT",
             "--to-destination", "10.89.254.2:2222")
    iptables("-t", "nat", "-A", parent, "-p", "tcp", "--dport", "1", "-m", "comment",
             "--comment", f"dnat name: {name} id: x", "-j", chain)
    iptables("-A", parent, "-s", subnet, "-j", "ACCEPT")
    try:
        assert name in nat_rules() and subnet in iptables("-S").stdout
        assert remove_firewall_rules(tmp_path) >= 2
        assert name not in nat_rules() and chain not in nat_rules()
        assert subnet not in iptables("-S").stdout
        assert parent in nat_rules()  # chains that are not the network's own stay
    finally:
        for args in (("-t", "nat", "-F", chain), ("-t", "nat", "-X", chain), ("-t", "nat", "-F", parent),
                     ("-t", "nat", "-X", parent), ("-F", parent), ("-X", parent)):
            iptables(*args)


@pytest.mark.parametrize("backend", BACKENDS)
def test_destroying_an_engine_removes_what_a_failed_test_left_in_the_firewall(backend):
    from symposium_tui.core import labels as L
    from symposium_tui.core.security import chain_name, firewall_plan
    from testbed.isolated import IsolatedEngine

    iso = IsolatedEngine(network_backend=backend).start()
    try:
        engine = iso.engine()
        network = engine.create_network("taskspace-left-net", L.ours("network", "left-behind"))
        engine.apply_firewall(firewall_plan("left-behind", "isolated", network.interface))
        assert chain_name("left-behind") in mangle_rules()
    finally:
        iso.destroy()
    assert chain_name("left-behind") not in mangle_rules()
    assert "taskspace=left-behind" not in mangle_rules()


def mangle_rules() -> str:
    return subprocess.run(["iptables", "-t", "mangle", "-S"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_port_forwards_of_engines_whose_directory_is_gone_are_removed(backend):
    """netavark comments its forwards `dnat name: NET id: ...`, CNI `dnat name: "NET" id: ...`."""
    from testbed.isolated import remove_orphaned_rules

    name, parent = "symtest-0dd0ff", "SYMTEST-PARENT2"
    chain = "NETAVARK-DN-SYMTEST0DD0FF" if backend == "netavark" else "CNI-DN-0dd0ff0dd0ff0dd0ff0dd"
    quoted = name if backend == "netavark" else f'"{name}"'
    iptables = lambda *args: subprocess.run(["iptables", *args], capture_output=True, text=True)  # noqa: E731
    iptables("-t", "nat", "-N", parent)
    iptables("-t", "nat", "-N", chain)
    iptables("-t", "nat", "-A", chain, "-p", "tcp", "-j", "DNAT", "--to-destination", "10.89.253.2:2222")
    iptables("-t", "nat", "-A", parent, "-p", "tcp", "--dport", "2", "-m", "comment",
             "--comment", f"dnat name: {quoted} id: x", "-j", chain)
    try:
        assert name in nat_rules()
        assert remove_orphaned_rules() >= 1
        assert name not in nat_rules() and chain not in nat_rules()
        assert parent in nat_rules()
    finally:
        for args in (("-t", "nat", "-F", chain), ("-t", "nat", "-X", chain), ("-t", "nat", "-F", parent),
                     ("-t", "nat", "-X", parent)):
            iptables(*args)


def test_destroy_removes_the_engines_containers_even_with_container_host_set(monkeypatch):
    """CONTAINER_HOST makes the podman CLI a client of another engine: the isolated engine's own
    CLI and service must ignore it (the screenshot script sets it for the dashboard, and its
    engines' containers were left running)."""
    from testbed.isolated import IsolatedEngine

    iso = IsolatedEngine().start()
    try:
        iso.cli("pod", "create", "--name", "kept-running")
        iso.cli("pod", "start", "kept-running")
        monkeypatch.setenv("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
        assert "kept-running" in iso.cli("pod", "ps", "--format", "{{.Name}}").stdout
    finally:
        iso.destroy()
    conmons = subprocess.run(["pgrep", "-af", "conmon"], capture_output=True, text=True).stdout
    assert str(iso.dir) not in conmons
