"""Taskspace lifecycle on the real isolated engine."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.repos import parse_repo
from symposium_tui.core.services.create import STEPS, CreateRequest, Creator
from tests.engine.conftest import inventory, make_repo
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def create(ctx, taskspace: str, repo: Path, **kwargs):
    return Creator(ctx).create(CreateRequest(taskspace, parse_repo(str(repo)), **kwargs))


def discard(lifecycle, taskspace: str) -> None:
    """Remove whatever is left of a taskspace at the end of a test."""
    if not lifecycle.inventory(taskspace).empty:
        lifecycle.remove(taskspace, force=True, purge_state=True)


def ssh(ctx, host: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(ctx.paths.ssh_config), "-o", "BatchMode=yes", host, command],
                          capture_output=True, text=True, timeout=60)


def inspect(isolated, kind: str, name: str) -> dict:
    data = json.loads(isolated.cli(kind, "inspect", name).stdout)
    return data[0] if isinstance(data, list) else data  # `pod inspect` gives an object on 4.x


@pytest.mark.network_backends
def test_create_makes_a_working_taskspace(isolated, ctx, lifecycle, repo):
    taskspace = create(ctx, "ts-alpha-1", repo)
    try:
        assert taskspace.status == "running"
        pod = inspect(isolated, "pod", "taskspace-ts-alpha-1")
        bindings = pod["InfraConfig"]["PortBindings"]
        assert set(bindings) == {"2222/tcp", "2223/tcp"}
        assert all(b["HostIp"] == "127.0.0.1" for port in bindings.values() for b in port)
        assert int(bindings["2222/tcp"][0]["HostPort"]) == taskspace.dev_port
        assert pod["Hostname"] == "ts-alpha-1"
        states = {c["Name"]: c["State"] for c in pod["Containers"]}
        assert states["taskspace-ts-alpha-1-agent"] == "running"
        assert states["taskspace-ts-alpha-1-dev"] == "running"
        roles = {}
        for name in isolated.cli("volume", "ls", "--format", "{{.Name}}").stdout.split():
            labels = inspect(isolated, "volume", name)["Labels"]
            if labels.get(L.TASKSPACE) == "ts-alpha-1":
                assert labels[L.OWNER] == L.OWNER_VALUE
                roles[labels[L.ROLE]] = name
        assert set(roles) == {"project-disk", "project", "workspace", "agent-state", "build-cache"}
        # The project layer and build cache are on one ext4 file system of the tier's storage limit.
        limit = ctx.policy.resolve(None, "demo-project")[1].storage
        sizes = ssh(ctx, "ts-alpha-1-dev", "stat -f -c '%b %S' /workspace /workspace/.build-cache")
        for line in sizes.stdout.splitlines():
            blocks, size = map(int, line.split())
            assert 0.9 * limit < blocks * size <= limit, (line, limit)
        mounts = {m["Destination"]: m for m in inspect(isolated, "container", "taskspace-ts-alpha-1-agent")["Mounts"]}
        assert mounts["/agent/auth"]["RW"] is False and mounts["/agent/context"]["RW"] is False
        assert mounts["/agent/config.yaml"]["RW"] is False
        assert mounts["/agent/config.yaml"]["Source"] == str(ctx.paths.config_dir / "agent" / "config.yaml")
        assert mounts["/agent/taskspace.yaml"]["RW"] is False
        assert mounts["/agent/state"]["Name"] == roles["agent-state"]
        dev_mounts = {m["Destination"] for m in inspect(isolated, "container", "taskspace-ts-alpha-1-dev")["Mounts"]}
        assert {"/workspace", "/workspace/.build-cache"} <= dev_mounts
        for host, user in (("ts-alpha-1-dev", "developer"), ("ts-alpha-1-agent", "agent")):
            result = ssh(ctx, host, "id -un; cat /workspace/README.md")
            assert result.returncode == 0, result.stderr
            assert result.stdout.split() == [user, "hello"]
        facts = ssh(ctx, "ts-alpha-1-agent", "cat /agent/taskspace.yaml; "
                                             "awk '$2 ~ /^\\/agent\\/(auth|context)$/ {print $2, $4}' /proc/mounts")
        assert f"dev: {taskspace.dev_port}" in facts.stdout
        assert [line.split(" ")[1].split(",")[0] for line in facts.stdout.splitlines()[-2:]] == ["ro", "ro"]
        listed = {t.id: t for t in lifecycle.list().taskspaces}
        assert listed["ts-alpha-1"].status == "running"
        assert listed["ts-alpha-1"].project == "demo-project"
        assert listed["ts-alpha-1"].dev_port == taskspace.dev_port
    finally:
        lifecycle.remove("ts-alpha-1", force=True, purge_state=True)


def test_workspaces_are_copy_on_write_and_private(isolated, ctx, lifecycle, repo, engine):
    create(ctx, "cow-a", repo)
    create(ctx, "cow-b", repo)
    try:
        base = engine.volume(parse_repo(str(repo)).base_volume)
        assert base is not None and base.labels[L.ROLE] == "project-base"
        a = ssh(ctx, "cow-a-dev", "echo mine > /workspace/only-a.txt && echo changed > /workspace/src.txt")
        assert a.returncode == 0, a.stderr
        # The agent of the same taskspace shares the same layer...
        assert ssh(ctx, "cow-a-agent", "cat /workspace/only-a.txt").stdout == "mine\n"
        # ...another taskspace of the same repository does not see it...
        b = ssh(ctx, "cow-b-dev", "ls /workspace; cat /workspace/src.txt")
        assert "only-a.txt" not in b.stdout and "original" in b.stdout
        # ...and the base is never written.
        base_dir = Path(base.mountpoint) / "gen" / ctx.registry.read()["cow-a"]["start"]
        assert not (base_dir / "only-a.txt").exists()
        assert (base_dir / "src.txt").read_text() == "original\n"
    finally:
        lifecycle.remove("cow-a", force=True, purge_state=True)
        lifecycle.remove("cow-b", force=True, purge_state=True)


class InjectedFailure(Exception):
    pass


@pytest.mark.parametrize("step", [name for name, _ in STEPS])
def test_a_failure_at_any_step_leaves_nothing_behind(isolated, ctx, step, tmp_path):
    fresh_repo = make_repo(tmp_path / f"fresh-{step}")  # its base volume does not exist yet
    registry_before = ctx.registry.path.read_text() if ctx.registry.path.exists() else None
    before = inventory(isolated)

    def fail_at(progress):
        if progress.step == step:
            raise InjectedFailure(step)

    with pytest.raises(InjectedFailure):
        Creator(ctx, fail_at).create(CreateRequest(f"fail-{step}", parse_repo(str(fresh_repo))))
    assert inventory(isolated) == before
    assert (ctx.registry.path.read_text() if ctx.registry.path.exists() else None) == registry_before
    assert not ctx.taskspace_dir(f"fail-{step}").exists()


def test_a_failure_keeps_a_base_volume_that_existed(isolated, ctx, lifecycle, repo):
    create(ctx, "keeps-base", repo)
    lifecycle.remove("keeps-base", force=True, purge_state=True)
    before = inventory(isolated)
    assert parse_repo(str(repo)).base_volume in before["volumes"]

    def fail_late(progress):
        if progress.step == "dev":
            raise InjectedFailure("dev")

    with pytest.raises(InjectedFailure):
        Creator(ctx, fail_late).create(CreateRequest("keeps-base-2", parse_repo(str(repo))))
    assert inventory(isolated) == before


def test_a_clone_that_fails_is_reported_and_rolled_back(isolated, ctx, tmp_path):
    # A repository git cannot read here is refused before anything is made.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".git").write_text("gitdir: /nowhere\n")
    before = inventory(isolated)
    with pytest.raises(UsageError, match="git cannot read this repository"):
        create(ctx, "broken-clone", broken)
    # One whose HEAD reads but whose objects do not: the fetch in the container fails, and what
    # the create made (its base included) is removed again.
    damaged = make_repo(tmp_path / "damaged", {"README.md": "hello\n", "big.txt": "x" * 5000})
    blob = subprocess.run(["git", "-C", str(damaged), "rev-parse", "HEAD:big.txt"], capture_output=True,
                          text=True, check=True).stdout.strip()
    loose = damaged / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not an object")
    with pytest.raises(SymposiumError, match="preparing project storage .* failed"):
        create(ctx, "broken-clone", damaged)
    assert inventory(isolated) == before


def test_an_image_without_sshd_is_explained_with_its_output_after_the_rollback(isolated, ctx, repo):
    """The rollback removes the container and its log: what it printed is kept in the error."""
    before = inventory(isolated)
    result = run_cli("--url", isolated.uri, "create", "no-sshd", "--repo", str(repo),
                     "--image", "localhost/symposium/base:bookworm")
    assert_clean_failure(result, 1)
    assert "taskspace-no-sshd-dev never became ready: taskspace-no-sshd-dev is exited" in result.stderr
    assert "it printed nothing" in result.stderr or "its last output:" in result.stderr
    assert "must run an SSH server" in result.stderr and "podman logs" not in result.stderr
    assert inventory(isolated) == before
    # a container that printed something before dying: its lines are in the message
    from symposium_tui.backends.podman.readiness import last_output
    isolated.cli("run", "--name", "talker", "localhost/symposium/base:bookworm", "sh", "-c",
                 "echo first; printf 'second \\033[31mred\\n'")
    try:
        assert last_output(ctx.backend.engine, "talker") == ["first", "second [31mred"]
    finally:
        isolated.cli("rm", "-f", "talker")


def test_two_concurrent_creates_of_one_id(isolated, ctx, lifecycle, repo):
    args = ("--url", isolated.uri, "create", "racer", "--repo", str(repo))
    procs = [subprocess.Popen([sys.executable, "-m", "symposium_tui", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(120), p.stdout.read(), p.stderr.read()) for p in procs]
    try:
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 1], results
        loser = next(err for code, _, err in results if code == 1)
        assert "racer" in loser and "Traceback" not in loser
        assert "is busy: another command is creating" in loser or "already exists" in loser
        assert inventory(isolated)["pods"].count("taskspace-racer") == 1
        assert [t.status for t in lifecycle.list().taskspaces if t.id == "racer"] == ["running"]
    finally:
        discard(lifecycle, "racer")


def test_rm_keeps_agent_state_and_purge_state_removes_it(isolated, ctx, lifecycle, repo):
    create(ctx, "keeper", repo)
    assert ssh(ctx, "keeper-agent", "echo remembered > /agent/state/history/note").returncode == 0
    removed = lifecycle.remove("keeper")
    assert "taskspace-keeper-agent-state" in removed["kept"]
    left = inventory(isolated)
    assert "taskspace-keeper" not in left["pods"]
    assert [v for v in left["volumes"] if v.startswith("taskspace-keeper")] == ["taskspace-keeper-agent-state"]
    assert "keeper" not in ctx.registry.read()
    assert "Host keeper-dev" not in ctx.paths.ssh_config.read_text()
    # A new taskspace with the same id finds its agent state again.
    create(ctx, "keeper", repo)
    assert ssh(ctx, "keeper-agent", "cat /agent/state/history/note").stdout == "remembered\n"
    lifecycle.remove("keeper", purge_state=True)
    assert not [v for v in inventory(isolated)["volumes"] if v.startswith("taskspace-keeper")]


def test_rm_refuses_to_lose_unpushed_or_uncommitted_work(isolated, ctx, lifecycle, repo):
    create(ctx, "unsaved", repo)
    try:
        commit = ("cd /workspace && echo new > feature.txt && git add feature.txt && "
                  "git -c user.email=d@x -c user.name=d commit -qm 'local only'")
        assert ssh(ctx, "unsaved-dev", commit).returncode == 0
        result = run_cli("--url", isolated.uri, "rm", "unsaved")
        assert_clean_failure(result, 1)
        assert "1 commit not fetched" in result.stderr and "--force" in result.stderr
        assert "taskspace-unsaved" in inventory(isolated)["pods"]
        assert ssh(ctx, "unsaved-dev", "cd /workspace && git reset -q --hard origin/main && "
                                       "echo dirty >> README.md").returncode == 0
        result = run_cli("--url", isolated.uri, "rm", "unsaved")
        assert_clean_failure(result, 1)
        assert "1 file changed (M README.md)" in result.stderr
        # A stopped taskspace is checked too, through its workspace volume.
        lifecycle.stop("unsaved")
        assert lifecycle.unsaved_work("unsaved", lifecycle.inventory("unsaved")).uncommitted == ("M README.md",)
        result = run_cli("--url", isolated.uri, "rm", "unsaved", "--force", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["pod"] == ["taskspace-unsaved"]
    finally:
        discard(lifecycle, "unsaved")


def test_lookalikes_are_never_listed_changed_or_removed(isolated, ctx, lifecycle, repo):
    isolated.cli("pod", "create", "--name", "taskspace-fake")
    isolated.cli("volume", "create", "taskspace-fake-agent-state")
    isolated.cli("volume", "create", "--label", "io.symposium.taskspace=fake", "taskspace-fake-build-cache")
    try:
        assert "fake" not in [t.id for t in lifecycle.list().taskspaces]
        result = run_cli("--url", isolated.uri, "rm", "fake", "--force")
        assert_clean_failure(result, 1)
        assert "no taskspace 'fake'" in result.stderr and "did not create it" in result.stderr
        result = run_cli("--url", isolated.uri, "create", "fake", "--repo", str(repo))
        assert_clean_failure(result, 1)
        assert "was not created by symposium-tui" in result.stderr
        after = inventory(isolated)
        assert "taskspace-fake" in after["pods"]
        assert {"taskspace-fake-agent-state", "taskspace-fake-build-cache"} <= set(after["volumes"])
    finally:
        isolated.cli("pod", "rm", "-f", "taskspace-fake")
        isolated.cli("volume", "rm", "taskspace-fake-agent-state", "taskspace-fake-build-cache")


def loop_devices_of(image: str) -> list[str]:
    listing = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if image in line]


@pytest.mark.network_backends
def test_stop_start_restart(isolated, ctx, lifecycle, repo, engine):
    created = create(ctx, "cycle", repo)
    try:
        project = engine.volume("taskspace-cycle-project")
        image = project.options["device"]
        assert loop_devices_of(image) and Path(project.mountpoint).is_mount()
        assert ssh(ctx, "cycle-dev", "echo kept > /workspace/kept.txt && "
                                     "echo cached > /workspace/.build-cache/c.txt").returncode == 0
        stopped = lifecycle.stop("cycle")
        assert stopped.status == "stopped" and stopped.reason == "stopped by the user"
        assert ctx.registry.read()["cycle"]["stopped_by_user"] is True
        # Stopped: podman has unmounted the project disk and let its loop device go.
        assert not Path(project.mountpoint).is_mount() and not loop_devices_of(image)
        # and no live CPU or memory is reported for it, not even a last sample
        from symposium_tui.core.services.poller import Poller, PollerSettings
        poller = Poller(ctx, PollerSettings(repair=False))
        for _ in range(2):
            status = {t.id: t for t in poller.tick().taskspaces}["cycle"]
        assert (status.cpu_percent, status.mem_bytes) == (None, None)
        started = lifecycle.start("cycle")
        assert started.status == "running"
        assert (started.dev_port, started.agent_port) == (created.dev_port, created.agent_port)
        assert ssh(ctx, "cycle-dev", "cat /workspace/kept.txt /workspace/.build-cache/c.txt").stdout == "kept\ncached\n"
        restarted = run_cli("--url", isolated.uri, "restart", "cycle", "--json")
        assert restarted.returncode == 0, restarted.stderr
        assert json.loads(restarted.stdout)["status"] == "running"
        assert ssh(ctx, "cycle-agent", "true").returncode == 0
    finally:
        lifecycle.remove("cycle", force=True, purge_state=True)
    assert not loop_devices_of(image) and not Path(project.mountpoint).exists()


def test_several_ids_at_once_each_reported(isolated, ctx, lifecycle, repo):
    """`stop a b c` stops all three; one that fails (no such taskspace) is reported with the others
    done and a non-zero exit; `rm` likewise, with --json a result per id."""
    ids = ["many-a", "many-b", "many-c"]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda name: create(ctx, name, repo), ids))
    try:
        stopped = run_cli("--url", isolated.uri, "stop", *ids)
        assert stopped.returncode == 0, stopped.stderr
        assert "stop: 3 of 3 done" in stopped.stdout
        rows = {t["id"]: t for t in json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]}
        assert [rows[i]["status"] for i in ids] == ["stopped"] * 3
        started = run_cli("--url", isolated.uri, "start", "many-a", "no-such-one", "many-b", "--json")
        assert started.returncode != 0
        results = json.loads(started.stdout)["results"]
        assert [(r["id"], r["ok"]) for r in results] == [("many-a", True), ("no-such-one", False), ("many-b", True)]
        assert results[0]["status"] == "running" and "no-such-one" in results[1]["error"]
        rows = {t["id"]: t for t in json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]}
        assert [rows[i]["status"] for i in ids] == ["running", "running", "stopped"]
        removed = run_cli("--url", isolated.uri, "rm", *ids, "many-a", "--force", "--purge-state", "--json")
        assert removed.returncode == 0, removed.stderr
        assert [r["id"] for r in json.loads(removed.stdout)["results"]] == ids  # the repeated one once
        assert not set(ids) & {t.id for t in lifecycle.list().taskspaces}
    finally:
        for name in ids:
            discard(lifecycle, name)


def test_ls_shows_drift_and_reconciles(isolated, ctx, lifecycle, repo):
    create(ctx, "drifty", repo)
    try:
        ctx.registry.put("ghost", {"status": "running", "dev_port": 1, "agent_port": 2})
        ctx.registry.remove("drifty")
        result = run_cli("--url", isolated.uri, "ls", "--json")
        data = json.loads(result.stdout)
        assert data["drift"] == {"registry_only": ["ghost"], "engine_only": ["drifty"]}
        rows = {t["id"]: t for t in data["taskspaces"]}
        assert rows["ghost"]["drift"] == "gone from engine" and rows["ghost"]["status"] == "missing"
        assert rows["drifty"]["drift"] == "not in registry"
        # The engine is the source of truth: the registry now matches it.
        assert "ghost" not in ctx.registry.read() and "drifty" in ctx.registry.read()
        again = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)
        assert again["drift"] == {"registry_only": [], "engine_only": []}
        text = run_cli("--url", isolated.uri, "ls").stdout
        assert "drifty" in text and "running" in text
    finally:
        lifecycle.remove("drifty", force=True, purge_state=True)


def test_ssh_config_command(isolated, ctx, lifecycle, repo):
    create(ctx, "sshcfg", repo)
    try:
        path = run_cli("ssh-config", "--path").stdout.strip()
        assert path == str(ctx.paths.ssh_config)
        include = run_cli("--url", isolated.uri, "ssh-config").stdout
        assert f"Include {path}" in include
        one = run_cli("--url", isolated.uri, "ssh-config", "sshcfg").stdout
        assert "Host sshcfg-dev" in one and "StrictHostKeyChecking accept-new" in one
        data = json.loads(run_cli("--url", isolated.uri, "ssh-config", "--json").stdout)
        assert {h["host"] for h in data["hosts"]} >= {"sshcfg-dev", "sshcfg-agent"}
        # Host keys are pinned per taskspace in the product's own known_hosts.
        assert ssh(ctx, "sshcfg-dev", "true").returncode == 0
        assert "sshcfg-dev " in ctx.paths.known_hosts.read_text()
    finally:
        lifecycle.remove("sshcfg", force=True, purge_state=True)
    assert "sshcfg-dev " not in ctx.paths.known_hosts.read_text()


def test_bad_input_is_refused_before_any_engine_call(tmp_path):
    dead = f"unix://{tmp_path}/no-engine.sock"  # any engine call would fail with exit 1
    for args, words in ((["create", "Bad_ID", "--repo", str(tmp_path)], "invalid taskspace id"),
                        (["create", "ok-id", "--repo", str(tmp_path / "missing")], "no such directory"),
                        (["create", "ok-id", "--repo", str(tmp_path)], "not a git repository"),
                        (["create", "ok-id", "--repo", "ext::sh -c touch% /tmp/pwned"], "--repo"),
                        (["create", "ok-id", "--repo", "--upload-pack=evil"], "--repo"),
                        (["rm", "../x"], "invalid taskspace id"),
                        (["start", "a;rm -rf /"], "invalid taskspace id"),
                        (["stop", "x" * 300], "at most 63")):
        result = run_cli("--url", dead, *args)
        assert_clean_failure(result, 2)
        assert words in result.stderr, (args, result.stderr)


def test_tier_the_host_cannot_give_is_refused(isolated, ctx, repo):
    before = inventory(isolated)
    result = run_cli("--url", isolated.uri, "create", "too-big", "--repo", str(repo), "--tier", "premium")
    assert_clean_failure(result, 2)
    assert "CPUs" in result.stderr
    assert inventory(isolated) == before


def test_logs_command(isolated, ctx, lifecycle, repo):
    create(ctx, "logged", repo)
    try:
        isolated.cli("exec", "taskspace-logged-dev", "sh", "-c", "echo from-the-dev > /proc/1/fd/1")
        result = run_cli("--url", isolated.uri, "logs", "logged", "--tail", "50")
        assert result.returncode == 0, result.stderr
        assert "from-the-dev" in result.stdout and "dev container ready" in result.stdout
        agent = run_cli("--url", isolated.uri, "logs", "logged", "--container", "agent", "-t")
        assert "agent container ready" in agent.stdout and "from-the-dev" not in agent.stdout
        nobody = run_cli("--url", isolated.uri, "logs", "nobody")
        assert_clean_failure(nobody, 1)
        assert "no taskspace 'nobody'" in nobody.stderr and "container" not in nobody.stderr
    finally:
        discard(lifecycle, "logged")


def test_an_ssh_server_that_never_greets_is_explained(isolated, ctx, lifecycle, repo, engine, monkeypatch):
    """When the wait for SSH gives up, the message says what the published port did and whether
    sshd listens inside the container: a broken port forward reads differently from a dead sshd."""
    from symposium_tui.backends.podman import readiness as create_module
    created = create(ctx, "mute", repo)
    try:
        monkeypatch.setattr(create_module, "READY_TIMEOUT", 1.5)
        monkeypatch.setattr(create_module, "REPAIR_AFTER", 0.5)
        killed = engine.exec("taskspace-mute-dev", ["pkill", "-x", "sshd"])
        assert killed.exit_code == 0, killed.stderr
        class Recorder:
            done = False
            calls: list[str] = []

            def __call__(self, why: str) -> None:
                self.calls.append(why)
        recorder = Recorder()
        with pytest.raises(SymposiumError) as caught:
            create_module.wait_ssh_ready(engine, "taskspace-mute-dev", created.dev_port, repair=recorder)
        assert recorder.calls == []  # a dead sshd is not a port forward to repair
        message = str(caught.value)
        assert "never became ready: not ready after" in message
        assert f"127.0.0.1:{created.dev_port}: Connection refused" in message
        assert "inside, nothing listens on port 2222" in message
        # The agent's sshd still runs: the same check there passes at once.
        create_module.wait_ssh_ready(engine, "taskspace-mute-agent", created.agent_port)
        # A port nobody forwards, for a container whose sshd listens: the detail says both.
        listening, detail = create_module.look_inside(engine, "taskspace-mute-agent", created.dev_port)
        assert listening and "Connection refused" in detail and "inside, sshd listens on port 2223" in detail
    finally:
        discard(lifecycle, "mute")


def dnat_rules(port: int) -> list[str]:
    rules = subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True, check=True).stdout
    return [line for line in rules.splitlines() if f"--dport {port} " in line]


def drop_port_forward(port: int) -> None:
    """What netavark sometimes does by itself: the host port's forwarding rules are gone."""
    rules = dnat_rules(port)
    assert any("-j DNAT" in rule for rule in rules), rules
    for rule in rules:
        subprocess.run(["iptables", "-w", "-t", "nat", *shlex.split(rule.replace("-A ", "-D ", 1))], check=True)


@pytest.mark.network_backends
def test_a_lost_port_forward_is_repaired_by_restarting_the_pod(isolated, ctx, lifecycle, repo, engine, monkeypatch):
    """netavark can lose a pod's port forward when pods come and go at once: sshd listens inside
    but the published port is silent. The wait notices after REPAIR_AFTER, restarts the pod once
    (which makes the forwards again), says so, and SSH answers."""
    from symposium_tui.backends.podman import readiness as create_module
    created = create(ctx, "reforward", repo)
    try:
        port = created.dev_port
        drop_port_forward(port)
        assert not dnat_rules(port) and not engine.ssh_answers(port)
        monkeypatch.setattr(create_module, "REPAIR_AFTER", 0.5)
        ctx.take_notices()
        create_module.wait_ssh_ready(engine, "taskspace-reforward-dev", port,
                                     repair=create_module.PodRepair(engine, "reforward", ctx.repair_report("reforward")))
        assert any("-j DNAT" in rule for rule in dnat_rules(port))
        notices = ctx.take_notices()
        assert len(notices) == 1 and "sshd listens but its published port does not answer" in notices[0]
        assert "restarted pod taskspace-reforward" in notices[0]
        record = json.loads((ctx.paths.log_dir / "restarts.log").read_text().splitlines()[-1])
        assert record["taskspace"] == "reforward" and record["result"] == "restarted"
        assert ssh(ctx, "reforward-dev", "cat /workspace/README.md").stdout == "hello\n"
    finally:
        discard(lifecycle, "reforward")


def test_a_repair_that_fails_and_a_vanished_object_are_clear_errors(ctx, engine):
    """podman's 404 becomes an error of ours (never a traceback), and a pod restart that fails
    is logged as failed, not as done."""
    from symposium_tui.core.errors import EngineNotFound
    from symposium_tui.backends.podman.readiness import PodRepair

    with pytest.raises(EngineNotFound, match="taskspace-nobody-dev"):
        engine.exec("taskspace-nobody-dev", ["true"])
    with pytest.raises(EngineNotFound):
        engine.restart_pod("taskspace-nobody")
    assert engine.container("taskspace-nobody-dev") is None and engine.pod("taskspace-nobody") is None
    ctx.take_notices()
    with pytest.raises(SymposiumError) as caught:
        PodRepair(engine, "nobody", ctx.repair_report("nobody"))("the port does not answer")
    assert "restarting pod taskspace-nobody to make its port forwards again failed" in caught.value.message
    record = json.loads((ctx.paths.log_dir / "restarts.log").read_text().splitlines()[-1])
    assert record["taskspace"] == "nobody" and record["result"].startswith("failed: ")
    assert ctx.take_notices() == []  # no "restarted" notice for a restart that did not happen


def test_ssh_lands_in_the_workspace_and_commits_carry_the_persons_identity(isolated, ctx, lifecycle, repo,
                                                                          tmp_path):
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Ada Person\n\temail = ada@example.org\n")
    made = run_cli("--url", isolated.uri, "create", "who", "--repo", str(repo),
                   env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert made.returncode == 0, made.stderr
    try:
        assert ssh(ctx, "who-dev", "bash -lc pwd").stdout.strip() == "/workspace"
        committed = ssh(ctx, "who-dev", "cd /workspace && echo x > new.txt && git add new.txt && "
                                        "git commit -qm 'from the taskspace' && git log -1 --format=%an/%ae")
        assert committed.returncode == 0, committed.stderr
        assert committed.stdout.strip() == "Ada Person/ada@example.org"
        agent = ssh(ctx, "who-agent", "cd /workspace && git config user.email")
        assert agent.stdout.strip() == "ada@example.org"  # the agent commits as the person too
        # the person's own repository was not touched
        assert subprocess.run(["git", "-C", str(repo), "config", "--local", "user.name"],
                              capture_output=True, text=True).stdout == ""
    finally:
        discard(lifecycle, "who")


def test_a_configured_git_identity_wins_and_bad_values_are_refused(tmp_path):
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.errors import ConfigError
    from symposium_tui.core.repos import person_git_identity

    path = tmp_path / "config.yaml"
    path.write_text("git:\n  name: Bot Name\n  email: bot@example.org\n")
    settings = load_settings(path, {})
    assert person_git_identity(settings.git_name, settings.git_email) == ("Bot Name", "bot@example.org")
    path.write_text("git:\n  name: \"two\\nlines\"\n")
    with pytest.raises(ConfigError, match="config.yaml:2"):
        load_settings(path, {})


def test_a_security_change_keeps_created_and_a_stopped_taskspace_stopped(isolated, ctx, lifecycle, repo):
    create(ctx, "sec-kept", repo)
    try:
        before = next(t for t in lifecycle.list().taskspaces if t.id == "sec-kept")
        lifecycle.stop("sec-kept")
        changed = run_cli("--url", isolated.uri, "security", "sec-kept", "isolated", "--json")
        assert changed.returncode == 0, changed.stderr
        after = next(t for t in lifecycle.list().taskspaces if t.id == "sec-kept")
        assert after.security == "isolated" and after.status == "stopped", after
        assert after.reason == "stopped by the user"
        assert after.created == before.created and after.created is not None
        assert lifecycle.start("sec-kept").status == "running"
    finally:
        discard(lifecycle, "sec-kept")


def test_adjust_to_a_tier_shows_that_tier_and_own_values_show_custom(isolated, ctx, lifecycle, repo):
    create(ctx, "tiered", repo)
    try:
        assert run_cli("--url", isolated.uri, "adjust", "tiered", "--tier", "minimal").returncode == 0
        rows = {t["id"]: t for t in json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]}
        assert rows["tiered"]["tier"] == "minimal"
        assert run_cli("--url", isolated.uri, "adjust", "tiered", "--cpu", "1").returncode == 0
        rows = {t["id"]: t for t in json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]}
        assert rows["tiered"]["tier"] == "custom"
        from symposium_tui.core.services.poller import Poller, PollerSettings
        status = {t.id: t for t in Poller(ctx, PollerSettings(repair=False)).tick().taskspaces}["tiered"]
        assert status.tier == "custom"
    finally:
        discard(lifecycle, "tiered")


def test_two_engines_of_one_machine_do_not_drop_each_others_taskspaces(engine_pool, repo):
    """#22 item 11: every unix socket used to be "local" with one registry: the other engine's
    `ls` dropped this one's entries (and with them its SSH aliases); an id in use on one engine
    is now refused on the other, whose SSH aliases and firewall chain would be the same."""
    first, second = engine_pool.get("netavark").iso, engine_pool.get("cni").iso
    made = run_cli("--url", first.uri, "create", "two-engines", "--repo", str(repo))
    try:
        assert made.returncode == 0, made.stderr
        assert run_cli("--url", second.uri, "ls", "--json").returncode == 0  # reconciles the second
        listed = json.loads(run_cli("--url", first.uri, "ls", "--json").stdout)["taskspaces"]
        entry = next(t for t in listed if t["id"] == "two-engines")
        assert entry["drift"] in ("", None) and entry["status"] == "running"
        # the SSH config the second engine's ls wrote still has the first engine's taskspace
        from symposium_tui.core.paths import app_paths
        assert "Host two-engines-dev" in app_paths().ssh_config.read_text()
        again = run_cli("--url", second.uri, "create", "two-engines", "--repo", str(repo))
        assert_clean_failure(again, 1)
        assert "exists on another engine of this machine" in again.stderr and first.uri in again.stderr
        assert not [n for n in inventory(second)["volumes"] if "two-engines" in n]  # nothing made there
    finally:
        run_cli("--url", first.uri, "rm", "two-engines", "--force", "--purge-state")
