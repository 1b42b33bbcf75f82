"""Network security levels on the real isolated engine, proven with real TCP connections between
addresses on this machine only: the taskspace's containers, another pod, and the host's own
addresses (a server in this test process)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading

import pytest

from symposium_tui.core.repos import parse_repo
from symposium_tui.core.security import chain_name
from symposium_tui.core.services.create import CreateRequest, Creator
from tests.engine.conftest import inventory, make_repo
from tests.engine.test_lifecycle import discard, ssh
from tests.helpers import assert_clean_failure, run_cli

pytestmark = [pytest.mark.engine, pytest.mark.network_backends]

TS = "sec-1"
DEV = f"taskspace-{TS}-dev"


class Servers:
    """TCP servers on all of the host's addresses, answering their own name."""

    def __init__(self, *names: str) -> None:
        self.ports: dict[str, int] = {}
        self._socks = []
        for name in names:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", 0))
            sock.listen(16)
            self.ports[name] = sock.getsockname()[1]
            self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock, name.encode()), daemon=True).start()

    @staticmethod
    def _serve(sock: socket.socket, answer: bytes) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(answer + b"\n")

    def close(self) -> None:
        for sock in self._socks:
            sock.close()


@pytest.fixture(scope="module")
def neighbour(isolated, images):
    """Another pod on the engine's default network with a TCP server on port 7000."""
    name = "sec-neighbour"
    isolated.cli("run", "-d", "--name", name, "--entrypoint", "/bin/sh", images["agent"].image, "-c",
                 "while true; do echo neighbour | nc -l -p 7000 -q 0; done")
    networks = json.loads(isolated.cli("inspect", name).stdout)[0]["NetworkSettings"]["Networks"]
    net = next(iter(networks.values()))
    yield {"ip": net["IPAddress"], "gateway": net["Gateway"], "name": name}
    isolated.cli("rm", "-f", "-t", "0", name, check=False)


def reach(isolated, container: str, address: str, port: int) -> str | None:
    """What a TCP client inside the container reads from address:port, or None if it cannot connect."""
    result = isolated.cli("exec", container, "sh", "-c", f"nc -w 2 {address} {port} </dev/null", check=False)
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def host_reach(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2) as conn:
            return conn.recv(16).startswith(b"SSH-")
    except OSError:
        return False


def refusal(isolated, container: str, address: str, port: int) -> tuple[int, float]:
    """(the client's exit code, seconds it took) for a connection that does not get through."""
    import time

    started = time.monotonic()
    result = isolated.cli("exec", container, "sh", "-c", f"nc -w 10 {address} {port} </dev/null", check=False)
    return result.returncode, time.monotonic() - started


def flush_inside(isolated) -> None:
    infra = json.loads(isolated.cli("pod", "inspect", f"taskspace-{TS}").stdout)["InfraContainerID"]
    pid = isolated.cli("inspect", "--format", "{{.State.Pid}}", infra).stdout.strip()
    subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "iptables", "-F", "OUTPUT"], check=True)


def mangle() -> str:
    return subprocess.run(["iptables", "-t", "mangle", "-S"], capture_output=True, text=True, check=True).stdout


def container_ip(isolated, container: str) -> str:
    networks = json.loads(isolated.cli("inspect", container).stdout)[0]["NetworkSettings"]["Networks"]
    return next(iter(networks.values()))["IPAddress"]


def own_gateway(isolated) -> str:
    network = json.loads(isolated.cli("network", "inspect", f"taskspace-{TS}-net").stdout)[0]
    return network["subnets"][0]["gateway"]


def write_allow(ctx, entries: list[str]) -> None:
    ctx.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    ctx.paths.config_file.write_text("security:\n  restricted_allow:\n" + "".join(f"    - \"{e}\"\n" for e in entries))


def test_security_levels_isolated_open_restricted(isolated, ctx, lifecycle, repo, neighbour):
    servers = Servers("allowed", "denied")
    host = neighbour["gateway"]  # an address of this host, on the engine's default bridge
    allowed, denied = servers.ports["allowed"], servers.ports["denied"]
    saved = ctx.paths.config_file.read_text() if ctx.paths.config_file.exists() else None
    try:
        # The level of a create without --security comes from config.yaml.
        ctx.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        ctx.paths.config_file.write_text("security:\n  default: isolated\n")
        created = run_cli("--url", isolated.uri, "create", TS, "--repo", str(repo))
        assert created.returncode == 0, created.stderr
        assert "security isolated" in created.stdout
        row = {t["id"]: t for t in json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]}
        assert row[TS]["security"] == "isolated"
        assert "isolated" in run_cli("--url", isolated.uri, "ls").stdout
        assert f"taskspace={TS}" in mangle() and chain_name(TS) in mangle()

        # The control: from the neighbour (default network) the host's servers answer.
        assert reach(isolated, neighbour["name"], host, allowed) == "allowed"
        # Isolated: nothing out — not the other pod, not the host, not its own bridge's gateway...
        code, seconds = refusal(isolated, DEV, host, allowed)
        assert code != 0 and seconds < 1.5, (code, seconds)  # at once, not after nc's 10 s time-out
        assert reach(isolated, DEV, neighbour["ip"], 7000) is None
        assert reach(isolated, DEV, host, allowed) is None
        assert reach(isolated, DEV, own_gateway(isolated), allowed) is None
        # ...and nothing in but the published loopback SSH ports.
        ts_ip = container_ip(isolated, DEV)
        assert reach(isolated, neighbour["name"], ts_ip, 2222) is None
        assert not host_reach(ts_ip, 2222)
        # Its agent and dev containers still talk to each other (the pod's own network namespace)...
        assert (reach(isolated, DEV, "127.0.0.1", 2223) or "").startswith("SSH-2.0")
        # ...and the person still gets in over SSH.
        assert ssh(ctx, f"{TS}-dev", "echo kept > /workspace/kept.txt && echo ok").stdout == "ok\n"
        assert ssh(ctx, f"{TS}-agent", "echo remembered > /agent/state/note").returncode == 0

        # Open: the pod is made again on podman's default network; the volumes are the same.
        changed = run_cli("--url", isolated.uri, "security", TS, "open", "--json")
        assert changed.returncode == 0, changed.stderr
        assert json.loads(changed.stdout)["old"] == "isolated"
        assert reach(isolated, DEV, host, allowed) == "allowed"
        assert reach(isolated, DEV, neighbour["ip"], 7000) == "neighbour"
        assert f"taskspace={TS}" not in mangle() and chain_name(TS) not in mangle()
        assert f"taskspace-{TS}-net" not in isolated.cli("network", "ls", "--format", "{{.Name}}").stdout
        assert ssh(ctx, f"{TS}-dev", "cat /workspace/kept.txt").stdout == "kept\n"
        assert ssh(ctx, f"{TS}-agent", "cat /agent/state/note").stdout == "remembered\n"

        # Restricted: out only to the allow-list.
        write_allow(ctx, [f"{host}:{allowed}"])
        changed = run_cli("--url", isolated.uri, "security", TS, "restricted")
        assert changed.returncode == 0, changed.stderr
        assert "security open -> restricted" in changed.stdout
        assert reach(isolated, DEV, host, allowed) == "allowed"
        assert reach(isolated, DEV, host, denied) is None
        assert reach(isolated, DEV, neighbour["ip"], 7000) is None
        ts_ip = container_ip(isolated, DEV)
        assert reach(isolated, neighbour["name"], ts_ip, 2222) is None
        assert not host_reach(ts_ip, 2222)
        assert ssh(ctx, f"{TS}-dev", "cat /workspace/kept.txt").stdout == "kept\n"

        # A stop/start keeps the level, and puts back rules something removed.
        assert lifecycle.stop(TS).status == "stopped"
        ctx.backend.engine.remove_firewall(TS)
        assert f"taskspace={TS}" not in mangle()
        assert lifecycle.start(TS).status == "running"
        assert f"taskspace={TS}" in mangle()
        assert reach(isolated, DEV, host, denied) is None

        # Rules removed while it runs: the poller calls it degraded, and its repair puts them back.
        from symposium_tui.core.services.poller import Poller, PollerSettings

        ctx.backend.engine.remove_firewall(TS)
        flush_inside(isolated)  # and the pod's own quick refusals (they only make it fail fast)
        status = {t.id: t for t in Poller(ctx, PollerSettings(repair=False)).tick().taskspaces}[TS]
        assert status.health.state.value == "degraded"
        assert "firewall rules of its restricted level are missing" in status.health.reason
        assert reach(isolated, DEV, host, denied) == "denied"  # the test can tell the difference
        snapshot = Poller(ctx, PollerSettings(repair=True)).tick()
        assert [r.result for r in snapshot.restarts if r.taskspace == TS] == ["rules put back"]
        assert {t.id: t for t in snapshot.taskspaces}[TS].health.state.value == "healthy"
        assert reach(isolated, DEV, host, denied) is None

        # Removing it leaves no network and no firewall rule behind.
        removed = run_cli("--url", isolated.uri, "rm", TS, "--force", "--purge-state")
        assert removed.returncode == 0, removed.stderr
        assert f"taskspace={TS}" not in mangle() and chain_name(TS) not in mangle()
        assert f"taskspace-{TS}-net" not in isolated.cli("network", "ls", "--format", "{{.Name}}").stdout
    finally:
        servers.close()
        if saved is None:
            ctx.paths.config_file.unlink(missing_ok=True)
        else:
            ctx.paths.config_file.write_text(saved)
        discard(lifecycle, TS)


def test_a_failed_isolated_create_leaves_no_network_or_rule(isolated, ctx, tmp_path):
    class Stop(Exception):
        pass

    def fail_at_pod(progress):
        if progress.step == "pod":
            raise Stop()

    before = inventory(isolated)
    networks = isolated.cli("network", "ls", "--format", "{{.Name}}").stdout
    with pytest.raises(Stop):
        Creator(ctx, fail_at_pod).create(
            CreateRequest("sec-fail", parse_repo(str(make_repo(tmp_path / "sec-fail-repo"))), security="isolated"))
    assert inventory(isolated) == before
    assert isolated.cli("network", "ls", "--format", "{{.Name}}").stdout == networks
    assert "taskspace=sec-fail" not in mangle()


def test_bad_levels_and_allow_lists_are_refused_cleanly(isolated, ctx, repo):
    bad = run_cli("--url", isolated.uri, "security", "nope", "closed")
    assert_clean_failure(bad, 2)
    missing = run_cli("--url", isolated.uri, "security", "no-such-ts", "open")
    assert_clean_failure(missing, 1)
    assert "no taskspace 'no-such-ts'" in missing.stderr
    saved = ctx.paths.config_file.read_text() if ctx.paths.config_file.exists() else None
    try:
        write_allow(ctx, ["10.0.0.1:70000"])
        result = run_cli("--url", isolated.uri, "create", "sec-bad", "--repo", str(repo), "--security", "restricted")
        assert_clean_failure(result, 2)
        assert "security.restricted_allow[0]" in result.stderr and "1-65535" in result.stderr
        assert "sec-bad" not in run_cli("--url", isolated.uri, "ls").stdout
    finally:
        if saved is None:
            ctx.paths.config_file.unlink(missing_ok=True)
        else:
            ctx.paths.config_file.write_text(saved)
