"""Live resource changes, policy tiers and storage use on the real isolated engine."""

from __future__ import annotations

import json

import pytest

from symposium_tui.core.policy import SEED_POLICY
from tests.engine.test_lifecycle import create, discard, inspect
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine

READ = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max")


def felt(isolated, container: str) -> tuple[int, int]:
    memory, quota = isolated.cli("exec", container, "sh", "-c", READ).stdout.split()
    return int(memory), int(quota)


def test_adjust_changes_what_the_processes_feel_without_a_restart(isolated, ctx, lifecycle, repo):
    create(ctx, "rs-live", repo)
    try:
        dev = "taskspace-rs-live-dev"
        assert felt(isolated, dev) == (4 * 2**30, 200000)  # the default tier, read inside
        pid = inspect(isolated, "container", dev)["State"]["Pid"]
        result = run_cli("--url", isolated.uri, "adjust", "rs-live", "--memory", "1536Mi", "--cpu", "0.5", "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["applied"] is True and data["new"]["memory"] == 1536 * 2**20
        assert felt(isolated, dev) == (1536 * 2**20, 50000)
        assert felt(isolated, "taskspace-rs-live-agent") == (1536 * 2**20, 50000)
        assert inspect(isolated, "container", dev)["State"]["Pid"] == pid  # not restarted
        # Raising above what the pod was created with works too (the pod's limit moves first).
        result = run_cli("--url", isolated.uri, "adjust", "rs-live", "--tier", "default", "--memory", "6Gi")
        assert result.returncode == 0, result.stderr
        assert "memory 1.5Gi -> 6Gi" in result.stdout and "cpu 0.5 -> 2" in result.stdout
        assert felt(isolated, dev) == (6 * 2**30, 200000)
        log = [json.loads(x) for x in (ctx.paths.log_dir / "resource-changes.log").read_text().splitlines()]
        mine = [x for x in log if x["taskspace"] == "rs-live"]
        assert [x["new"]["memory"] for x in mine] == [1536 * 2**20, 6 * 2**30]
        assert mine[0]["old"]["memory"] == 4 * 2**30 and "via cli" in mine[0]["who"]
        # podman forgets container updates on restart; the product puts them back.
        lifecycle.restart("rs-live")
        assert felt(isolated, dev) == (6 * 2**30, 200000)
        assert ctx.registry.read()["rs-live"]["memory_limit"] == 6 * 2**30
    finally:
        discard(lifecycle, "rs-live")


def test_adjust_of_a_stopped_taskspace_applies_at_start(isolated, ctx, lifecycle, repo):
    create(ctx, "rs-later", repo)
    try:
        lifecycle.stop("rs-later")
        result = run_cli("--url", isolated.uri, "adjust", "rs-later", "--memory", "768Mi")
        assert result.returncode == 0 and "applied when it starts" in result.stderr
        lifecycle.start("rs-later")
        assert felt(isolated, "taskspace-rs-later-dev")[0] == 768 * 2**20
    finally:
        discard(lifecycle, "rs-later")


def test_adjust_refuses_what_the_host_cannot_give(isolated, ctx, lifecycle, repo):
    create(ctx, "rs-refuse", repo)
    try:
        for args, words in ((["--memory", "100Ti"], "more than the host has"),
                            (["--cpu", "64"], "more than the host has"),
                            (["--memory", "lots"], "--memory 'lots'"),
                            (["--tier", "gold"], "unknown tier 'gold'"),
                            ([], "needs --tier, --memory or --cpu")):
            result = run_cli("--url", isolated.uri, "adjust", "rs-refuse", *args)
            assert_clean_failure(result, 2)
            assert words in result.stderr, (args, result.stderr)
        assert felt(isolated, "taskspace-rs-refuse-dev") == (4 * 2**30, 200000)
    finally:
        discard(lifecycle, "rs-refuse")


def test_tiers_come_from_the_policy_file_and_a_bad_file_fails_cleanly(isolated, ctx, lifecycle, repo):
    policy = ctx.paths.policy_file
    saved = policy.read_text() if policy.exists() else SEED_POLICY
    policy.parent.mkdir(parents=True, exist_ok=True)
    try:
        policy.write_text(SEED_POLICY.replace("  minimal:\n", '  tiny:\n    memory: "512Mi"\n    cpu: "250m"\n'
                                              '    storage: "32Mi"\n\n  minimal:\n'))
        ctx._policy = None  # re-read
        result = run_cli("--url", isolated.uri, "create", "rs-tiny", "--repo", str(repo), "--tier", "tiny")
        assert result.returncode == 0, result.stderr
        assert felt(isolated, "taskspace-rs-tiny-dev") == (512 * 2**20, 25000)
        from symposium_tui.core.services.poller import Poller, PollerSettings
        poller = Poller(ctx, PollerSettings(repair=False, storage_every=3600))  # one full measure, at first
        status = {t.id: t for t in poller.tick().taskspaces}["rs-tiny"]
        assert not status.storage.full and status.storage.free > 16 * 2**20
        # The 32Mi limit is enforced: the project layer and the build cache cannot grow past it.
        full = isolated.cli("exec", "taskspace-rs-tiny-dev", "sh", "-c",
                            "head -c 20000000 /dev/urandom > /workspace/blob.bin && "
                            "head -c 20000000 /dev/urandom > /workspace/.build-cache/more.bin", check=False)
        assert full.returncode != 0 and "No space left on device" in full.stderr
        # a running poller sees the full disk at its next tick, not at its next full measurement
        status = {t.id: t for t in poller.tick().taskspaces}["rs-tiny"]
        assert status.storage.full and status.storage.used > 20000000
        assert status.health.state.value == "degraded" and "is full" in status.health.reason
        listing = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)
        row = {t["id"]: t for t in listing["taskspaces"]}["rs-tiny"]
        assert row["storage"]["enforced"] is True and row["storage"]["over"] is False
        assert row["storage"]["full"] is True and "FULL" in run_cli("--url", isolated.uri, "ls").stdout
        assert 20000000 < row["storage"]["by_role"]["project"] <= 32 * 2**20
        # /tmp and /var/tmp are memory, each at most half the memory limit, in both containers;
        # what a container writes elsewhere in its root file system (home) is measured and counted.
        for member in ("dev", "agent"):
            mounts = isolated.cli("exec", f"taskspace-rs-tiny-{member}", "sh", "-c",
                                  "stat -f -c %T /tmp /var/tmp; df -B1 --output=size /tmp | tail -1").stdout.split()
            assert mounts == ["tmpfs", "tmpfs", str(256 * 2**20)], mounts
        isolated.cli("exec", "-u", "1000", "taskspace-rs-tiny-dev", "sh", "-c",
                     "head -c 30000000 /dev/urandom > /tmp/not-counted.bin && "
                     "head -c 6000000 /dev/urandom > /home/developer/counted.bin")
        listing = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)
        row = {t["id"]: t for t in listing["taskspaces"]}["rs-tiny"]
        assert 6000000 <= row["storage"]["by_role"]["root-fs"] < 20000000, row["storage"]
        # The agent state is measured, not limited: past the limit altogether, the taskspace is
        # flagged in ls and health.
        isolated.cli("exec", "taskspace-rs-tiny-agent", "sh", "-c",
                     "head -c 16000000 /dev/urandom > /agent/state/blob.bin")
        listing = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)
        row = {t["id"]: t for t in listing["taskspaces"]}["rs-tiny"]
        assert row["storage"]["over"] is True and row["storage"]["used"] >= 36000000
        assert row["storage"]["limit"] == 32 * 2**20
        # A tier with a larger disk does not resize it: adjust says so and keeps the size.
        bigger = run_cli("--url", isolated.uri, "adjust", "rs-tiny", "--tier", "minimal", "--json")
        assert bigger.returncode == 0, bigger.stderr
        assert json.loads(bigger.stdout)["new"]["storage"] == 32 * 2**20
        assert "fixed when it is created" in json.loads(bigger.stdout)["note"]
        assert "OVER" in run_cli("--url", isolated.uri, "ls").stdout
        health = run_cli("--url", isolated.uri, "health", "--json")
        assert health.returncode == 1
        status = {t["id"]: t for t in json.loads(health.stdout)["taskspaces"]}["rs-tiny"]
        assert status["health"] == "degraded" and "over its limit" in status["reason"]
        # A broken policy file: create fails naming the line; commands without tiers still work.
        policy.write_text("taskspace_limits:\n  default:\n    memory: lots\n    cpu: 1\n    storage: 1Gi\n")
        bad = run_cli("--url", isolated.uri, "create", "rs-never", "--repo", str(repo))
        assert_clean_failure(bad, 2)
        assert f"{policy}:3: taskspace_limits.default.memory" in bad.stderr
        assert run_cli("--url", isolated.uri, "ls").returncode == 0
        assert "rs-never" not in run_cli("--url", isolated.uri, "ls").stdout
    finally:
        policy.write_text(saved)
        ctx._policy = None
        discard(lifecycle, "rs-tiny")


def test_storage_enforcement_is_stated_plainly():
    from symposium_tui.core.services.storage import StorageUse, enforcement

    assert enforcement(StorageUse("a", 10, 2**30, enforced=True)).startswith("enforced: project layer and "
                                                                              "build cache on a 1Gi file")
    assert enforcement(StorageUse("b", 10, 2**30)).startswith("not enforced")


def running_states(isolated, taskspace: str) -> dict[str, str]:
    names = [f"taskspace-{taskspace}-{role}" for role in ("agent", "dev")]
    out = isolated.cli("inspect", "--format", "{{.Name}} {{.State.Status}}", *names).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_lowered_cpu_and_memory_survive_every_kind_of_start(isolated, ctx, lifecycle, repo):
    """The containers' own limits never sit above the pod's after a change: stop/start, restart,
    a pod restart from outside and the poller's auto-restart all start them (a lowered CPU quota
    used to make every start fail with 'cpu.cfs_quota_us: invalid argument')."""
    create(ctx, "rs-low", repo)
    dev, agent = "taskspace-rs-low-dev", "taskspace-rs-low-agent"
    low = (1536 * 2**20, 50000)
    try:
        result = run_cli("--url", isolated.uri, "adjust", "rs-low", "--memory", "1536Mi", "--cpu", "500m")
        assert result.returncode == 0, result.stderr
        assert felt(isolated, dev) == low
        for how in ("stop/start", "restart"):
            if how == "stop/start":
                lifecycle.stop("rs-low")
                lifecycle.start("rs-low")
            else:
                lifecycle.restart("rs-low")
            assert felt(isolated, dev) == low and felt(isolated, agent) == low, how
        # a pod restart the product did not make: podman starts both containers again
        isolated.cli("pod", "restart", "taskspace-rs-low")
        assert set(running_states(isolated, "rs-low").values()) == {"running"}
        # the poller's auto-restart of a killed container, and the limits put back
        isolated.cli("kill", dev)
        repaired = run_cli("--url", isolated.uri, "health", "--repair", "--json")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert [r["result"] for r in json.loads(repaired.stdout)["repairs"]] == ["restarted"]
        assert running_states(isolated, "rs-low")[dev] == "running"
        assert felt(isolated, dev) == low
        # raised again, then lowered while stopped: starts work both ways
        assert run_cli("--url", isolated.uri, "adjust", "rs-low", "--cpu", "2").returncode == 0
        lifecycle.restart("rs-low")
        assert felt(isolated, dev)[1] == 200000
        lifecycle.stop("rs-low")
        assert run_cli("--url", isolated.uri, "adjust", "rs-low", "--cpu", "250m").returncode == 0
        lifecycle.start("rs-low")
        assert felt(isolated, dev)[1] == 25000 and felt(isolated, agent)[1] == 25000
    finally:
        discard(lifecycle, "rs-low")


def test_a_taskspace_made_with_container_cpu_quotas_still_starts_after_lowering(isolated, ctx, lifecycle, repo,
                                                                              monkeypatch):
    """Taskspaces made by earlier versions carry a CPU quota from their containers' creation,
    which podman writes at every start: the start widens the pod to it first, then narrows."""
    from dataclasses import replace

    from symposium_tui.backends.podman import launch as launching
    from symposium_tui.core.services.resources import Resources

    original = launching._container

    def old_style(engine, spec, undo, copy=None, cpu_millis=0):
        return original(engine, replace(spec, cpu_millis=cpu_millis or None), undo, copy, cpu_millis)

    monkeypatch.setattr(launching, "_container", old_style)
    create(ctx, "rs-old", repo)
    monkeypatch.undo()
    dev = "taskspace-rs-old-dev"
    try:
        assert inspect(isolated, "container", dev)["HostConfig"]["CpuQuota"] == 200000
        Resources(ctx).adjust("rs-old", cpu="500m")
        lifecycle.stop("rs-old")
        lifecycle.start("rs-old")
        assert felt(isolated, dev)[1] == 50000
        isolated.cli("kill", dev)
        repaired = run_cli("--url", isolated.uri, "health", "--repair", "--json")
        assert [r["result"] for r in json.loads(repaired.stdout)["repairs"]] == ["restarted"], repaired.stdout
        assert felt(isolated, dev)[1] == 50000
    finally:
        discard(lifecycle, "rs-old")


def test_memory_is_the_working_set_not_the_page_cache(isolated, ctx, lifecycle, repo, engine):
    """A 300 MB file written in the container fills the page cache; podman counts it as memory
    in use, `docker stats` and `kubectl top` do not, and neither does the product."""
    create(ctx, "rs-cache", repo)
    dev = "taskspace-rs-cache-dev"
    try:
        def ours() -> int:
            return next(s.mem_usage for s in engine.stats() if s.name == dev)

        before = ours()
        isolated.cli("exec", dev, "sh", "-c", "dd if=/dev/zero of=/root/big bs=1M count=300 status=none && sync")
        raw = json.loads(isolated.cli("stats", "--no-stream", "--format", "json", dev).stdout)[0]
        from symposium_tui.core.units import parse_size
        podman_says = parse_size(raw["mem_usage"].split("/")[0].strip().replace("B", "").replace("k", "K"))
        assert podman_says > before + 200 * 2**20, (raw, before)  # the cache is in podman's figure
        assert ours() < before + 100 * 2**20, (ours(), before)  # and not in ours
    finally:
        discard(lifecycle, "rs-cache")
