"""Several engine hosts: a second isolated engine reached over a real SSH connection (an sshd on
127.0.0.1 with keys made for the test), driven through the product's CLI next to the local one."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from symposium_tui.core.paths import app_paths
from tests.engine.conftest import inventory
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def box2(remote_host):
    with remote_host.configured(app_paths().config_file):
        yield remote_host


@pytest.fixture(scope="module")
def local_env(isolated):
    """"local" is the first isolated engine (never this machine's own podman)."""
    return {"CONTAINER_HOST": isolated.uri}


def cli(*args: str, env: dict[str, str] | None = None, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = run_cli(*args, env=env)
    assert result.returncode == code, (args, result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    return result


def ours(iso) -> dict[str, list[str]]:
    return {kind: [n for n in names if n.startswith("taskspace-")] for kind, names in inventory(iso).items()}


def test_a_taskspace_on_the_remote_host_end_to_end(box2, local_env, isolated, repo):
    paths = app_paths()
    before_local = ours(isolated)
    created = cli("create", "far-1", "--repo", str(repo), "--connection", "box2", env=local_env)
    try:
        assert "host     box2" in created.stdout and "far-1-dev.box2" in created.stdout
        # It is on the second engine only, as podman there lists it.
        assert "taskspace-far-1" in inventory(box2.iso)["pods"]
        assert ours(isolated) == before_local

        # The agent's files came over as root-owned copies (no bind mounts from this machine).
        stat = box2.iso.cli("exec", "taskspace-far-1-agent", "stat", "-c", "%u %a",
                            "/agent/config.yaml", "/agent/taskspace.yaml").stdout.split("\n")
        assert [line.split()[0] for line in stat if line] == ["0", "0"]
        facts = box2.iso.cli("exec", "taskspace-far-1-agent", "cat", "/agent/taskspace.yaml").stdout
        assert "taskspace: far-1" in facts
        # The local repository travelled as a git bundle and is the workspace.
        readme = box2.iso.cli("exec", "taskspace-far-1-dev", "cat", "/workspace/src.txt").stdout
        assert readme == "original\n"

        # ls: per host, and all hosts with a host column.
        remote_ls = json.loads(cli("ls", "--connection", "box2", "--json", env=local_env).stdout)
        assert [t["id"] for t in remote_ls["taskspaces"]] == ["far-1"]
        assert remote_ls["taskspaces"][0]["status"] == "running"
        local_ls = json.loads(cli("ls", "--json", env=local_env).stdout)
        assert "far-1" not in [t["id"] for t in local_ls["taskspaces"]]
        everywhere = json.loads(cli("ls", "--all-connections", "--json", env=local_env).stdout)
        assert {h["name"]: h["reachable"] for h in everywhere["hosts"]} == {"local": True, "box2": True}
        assert {"host": "box2", "id": "far-1"}.items() <= next(
            t for t in everywhere["taskspaces"] if t["id"] == "far-1").items()
        text = cli("ls", "-A", env=local_env).stdout
        assert text.splitlines()[0].split()[:2] == ["HOST", "ID"]
        assert any(line.split()[:2] == ["box2", "far-1"] for line in text.splitlines())

        # The agent's session there (a shell: no agent configured): send types into it through the
        # host's engine, and its signal is read back through the engine too (#20).
        assert remote_ls["taskspaces"][0]["agent"]["state"] == "none"
        cli("send", "far-1", "symposium-signal attention 'remote hello'", "--connection", "box2", env=local_env)
        deadline = time.monotonic() + 20
        while not (agent := json.loads(cli("ls", "-c", "box2", "--json", env=local_env).stdout)
                   ["taskspaces"][0]["agent"])["needs_attention"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert agent["attention"]["message"] == "remote hello"
        signals = json.loads(cli("signals", "far-1", "-c", "box2", "--json", env=local_env).stdout)["signals"]
        assert [s["message"] for s in signals] == ["remote hello"]

        # The host's state is its own: registry and SSH entries under its name.
        registry = json.loads((paths.state_dir / "hosts" / "box2" / "taskspace-registry.json").read_text())
        assert "far-1" in registry
        main = paths.main_ssh_config.read_text()
        assert f"Include {paths.ssh_config_dir}/*.conf" in main and "far-1" not in main

        # SSH through the host's sshd (ProxyJump), as a person would.
        ssh = subprocess.run(["ssh", "-F", str(paths.main_ssh_config), "-o", "BatchMode=yes",
                              "-o", "ConnectTimeout=10", "far-1-dev.box2", "cat /workspace/README.md"],
                             capture_output=True, text=True, timeout=60)
        assert ssh.returncode == 0 and ssh.stdout == "hello\n", ssh.stderr

        # Its work comes home through the host's connection: diff there, fetch into the repository here.
        work = subprocess.run(["ssh", "-F", str(paths.main_ssh_config), "-o", "BatchMode=yes", "far-1-dev.box2",
                               "cd /workspace && echo far >> README.md && "
                               "git -c user.email=a@x -c user.name=a commit -qam far-change"],
                              capture_output=True, text=True, timeout=60)
        assert work.returncode == 0, work.stderr
        changes = json.loads(cli("diff", "far-1", "--connection", "box2", "--json", env=local_env).stdout)
        assert [c["subject"] for c in changes["commits"]] == ["far-change"] and changes["uncommitted"] == []
        cli("fetch", "far-1", "--connection", "box2", env=local_env)
        fetched = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "taskspace/far-1"],
                                 capture_output=True, text=True)
        assert fetched.stdout.strip() == "far-change", fetched.stderr

        # health, on the host and on all hosts
        health = json.loads(cli("health", "--connection", "box2", "--json", env=local_env).stdout)
        assert health["ok"] and [t["health"] for t in health["taskspaces"]] == ["healthy"]
        all_health = json.loads(run_cli("health", "-A", "--json", env=local_env).stdout)
        assert {"host": "box2", "id": "far-1"}.items() <= next(
            t for t in all_health["taskspaces"] if t["id"] == "far-1").items()
        assert all(h["reachable"] for h in all_health["hosts"])

        # Live limits need a pod update API or the pod's cgroup on this machine: refused, unchanged.
        adjusted = run_cli("adjust", "far-1", "--memory", "1Gi", "--connection", "box2", env=local_env)
        assert_clean_failure(adjusted, 1)
        assert "cgroup is not on this machine" in adjusted.stderr

        # cleanup: the all-hosts preview changes nothing; applying is per host.
        plan = json.loads(cli("cleanup", "-A", "--inactive-for", "0s", "--include-running", "--json",
                              env=local_env).stdout)
        by_host = {h["name"]: h for h in plan["hosts"]}
        assert [i["taskspace"] for i in by_host["box2"]["plan"]["items"]] == ["far-1"]
        assert "taskspace-far-1" in inventory(box2.iso)["pods"]
        assert_clean_failure(run_cli("cleanup", "-A", "--apply", env=local_env), 2)
        cli("cleanup", "--connection", "box2", "--inactive-for", "0s", "--include-running", "--apply",
            "--force", env=local_env)
        left = ours(box2.iso)
        assert left["pods"] == [] and left["containers"] == []
        assert left["volumes"] == ["taskspace-far-1-agent-state"]  # agent state is kept
        assert ours(isolated) == before_local
        registry = json.loads((paths.state_dir / "hosts" / "box2" / "taskspace-registry.json").read_text())
        assert "far-1" not in registry
        assert "far-1" not in (paths.ssh_config_dir / "box2.conf").read_text()
    finally:
        run_cli("rm", "far-1", "--connection", "box2", "--force", "--purge-state", env=local_env)


def test_firewall_levels_are_refused_on_a_remote_host_and_nothing_is_made(box2, local_env, repo):
    before = inventory(box2.iso)
    result = run_cli("create", "far-2", "--repo", str(repo), "--security", "isolated",
                     "--connection", "box2", env=local_env)
    assert_clean_failure(result, 1)
    assert "engine on this machine" in result.stderr
    assert inventory(box2.iso) == before


def test_an_unreachable_host_is_reported_and_the_others_still_answer(box2, local_env):
    box2.sshd.stop()
    try:
        started = time.monotonic()
        result = run_cli("ls", "--all-connections", "--json", env=local_env)
        elapsed = time.monotonic() - started
        assert result.returncode == 1, result.stderr
        hosts = {h["name"]: h for h in json.loads(result.stdout)["hosts"]}
        assert hosts["local"]["reachable"] is True
        assert hosts["box2"]["reachable"] is False
        assert "unreachable over SSH" in hosts["box2"]["error"]
        assert "host box2: unreachable" in result.stderr
        assert elapsed < 30  # connection refused is answered at once, not after a timeout
        single = run_cli("ls", "--connection", "box2", env=local_env)
        assert_clean_failure(single, 1)
        assert "box2" in single.stderr
    finally:
        box2.sshd.start()
    assert json.loads(cli("ls", "-c", "box2", "--json", env=local_env).stdout)["taskspaces"] == []


def test_podman_connections_are_hosts_too(box2, local_env, tmp_path):
    """A connection added with podman's own CLI is found by name."""
    conf = tmp_path / "containers.conf"
    conf.write_text("")
    env = {**local_env, "CONTAINERS_CONF": str(conf)}
    added = subprocess.run(["podman", "system", "connection", "add", "--identity", str(box2.sshd.client_key),
                            "viapodman", box2.uri], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=60)
    assert added.returncode == 0, added.stderr
    # podman 4.3 stores the URI of a host it reached without the socket's path; the product then
    # asks podman on that host for it, as podman does.
    assert "viapodman" in conf.read_text()
    listed = json.loads(cli("ls", "--all-connections", "--json", env=env).stdout)
    assert {h["name"] for h in listed["hosts"]} == {"local", "box2", "viapodman"}
    listed = json.loads(cli("ls", "--connection", "viapodman", "--json", env=env).stdout)
    assert listed["taskspaces"] == []


def test_unknown_connection_is_a_usage_error(box2, local_env):
    result = run_cli("ls", "--connection", "nowhere", env=local_env)
    assert_clean_failure(result, 2)
    assert "known: local, box2" in result.stderr
