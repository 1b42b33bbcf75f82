"""Cleanup and volume GC on the real isolated engine: plans change nothing, apply does exactly them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.cleanup import Cleanup
from tests.engine.conftest import inventory
from tests.engine.test_lifecycle import create, discard, ssh
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def full_inventory(isolated) -> dict[str, list[str]]:
    found = inventory(isolated)
    found["networks"] = sorted(isolated.cli("network", "ls", "--format", "{{.Name}}").stdout.split())
    return found


def age(ctx, taskspace: str, days: float) -> None:
    when = datetime.now(timezone.utc) - timedelta(days=days)
    ctx.registry.put(taskspace, {"last_activity": when.isoformat(timespec="seconds")})


@pytest.fixture
def lookalikes(isolated):
    isolated.cli("pod", "create", "--name", "taskspace-old-fake")
    isolated.cli("volume", "create", "taskspace-old-fake-project")
    isolated.cli("volume", "create", "--label", "io.symposium.taskspace=old-fake", "--label",
                 "io.symposium.role=project", "taskspace-old-fake-build-cache")
    yield
    isolated.cli("pod", "rm", "-f", "taskspace-old-fake")
    isolated.cli("volume", "rm", "-f", "taskspace-old-fake-project", "taskspace-old-fake-build-cache")


def test_dry_run_changes_nothing_and_apply_removes_exactly_the_plan(isolated, ctx, lifecycle, repo, lookalikes):
    create(ctx, "gc-old-1", repo)
    create(ctx, "gc-fresh-2", repo)
    try:
        lifecycle.stop("gc-old-1")
        lifecycle.stop("gc-fresh-2")
        age(ctx, "gc-old-1", 3)
        before = full_inventory(isolated)
        result = run_cli("--url", isolated.uri, "cleanup", "--inactive-days", "1", "--json")
        assert result.returncode == 0, result.stderr
        plan = json.loads(result.stdout)
        assert full_inventory(isolated) == before  # a dry run changes nothing at all
        assert [i["taskspace"] for i in plan["items"]] == ["gc-old-1"]
        item = plan["items"][0]
        removed = {(t["kind"], t["name"]) for t in item["remove"]}
        assert ("pod", "taskspace-gc-old-1") in removed
        assert {("volume", f"taskspace-gc-old-1-{r}")
                for r in ("project-disk", "project", "workspace", "build-cache")} <= removed
        assert [t["name"] for t in item["keep"]] == ["taskspace-gc-old-1-agent-state"]
        assert "last activity 3d ago" in item["why"] and "stopped since" in item["why"]
        assert "podman pod rm --force taskspace-gc-old-1" in item["commands"]
        text = run_cli("--url", isolated.uri, "cleanup", "--inactive-days", "1").stdout
        assert "dry run" in text and "gc-old-1" in text and "--apply" in text
        assert "fake" not in text + result.stdout

        applied = run_cli("--url", isolated.uri, "cleanup", "--inactive-days", "1", "--apply", "--json")
        assert applied.returncode == 0, applied.stderr
        [outcome] = json.loads(applied.stdout)["results"]
        assert (outcome["item"], outcome["result"]) == ("gc-old-1", "removed")
        # measured again when applied: the project disk's image file may have grown a little
        # (ext4 finishes initialising while mounted) since the dry run
        assert outcome["bytes"] == pytest.approx(item["bytes_reclaimed"], rel=0.1)
        after = full_inventory(isolated)
        gone = {name for kind, name in removed if kind in ("pod", "volume")}
        assert set(before["pods"]) - set(after["pods"]) == gone & set(before["pods"])
        assert set(before["volumes"]) - set(after["volumes"]) == gone & set(before["volumes"])
        assert "taskspace-gc-old-1-agent-state" in after["volumes"]
        assert "taskspace-gc-fresh-2" in after["pods"]
        assert {"taskspace-old-fake-project", "taskspace-old-fake-build-cache"} <= set(after["volumes"])
    finally:
        discard(lifecycle, "gc-old-1")
        discard(lifecycle, "gc-fresh-2")


def test_an_item_that_became_active_is_skipped(isolated, ctx, lifecycle, repo):
    create(ctx, "gc-wakes", repo)
    try:
        lifecycle.stop("gc-wakes")
        age(ctx, "gc-wakes", 2)
        cleanup = Cleanup(ctx)
        plan = cleanup.plan(timedelta(days=1))
        assert [i.taskspace for i in plan.items] == ["gc-wakes"]
        age(ctx, "gc-wakes", 0)  # someone used it after the plan was made
        outcomes = cleanup.apply(plan)
        assert outcomes[0].result.startswith("skipped: it became active since the plan")
        assert "taskspace-gc-wakes" in inventory(isolated)["pods"]
    finally:
        discard(lifecycle, "gc-wakes")


def test_running_only_with_include_running_and_unsaved_work_needs_force(isolated, ctx, lifecycle, repo):
    create(ctx, "gc-busy", repo)
    try:
        age(ctx, "gc-busy", 5)
        assert Cleanup(ctx).plan(timedelta(days=1)).items == ()
        assert ssh(ctx, "gc-busy-dev", "echo wip > /workspace/wip.txt").returncode == 0
        plan = Cleanup(ctx).plan(timedelta(days=1), include_running=True)
        assert [i.taskspace for i in plan.items] == ["gc-busy"]
        assert "1 file changed (?? wip.txt)" in plan.items[0].warning
        outcomes = Cleanup(ctx).apply(plan)
        assert outcomes[0].result.startswith("skipped:") and "exists nowhere else" in outcomes[0].result
        assert Cleanup(ctx).apply(plan, force=True)[0].result == "removed"
        assert "taskspace-gc-busy" not in inventory(isolated)["pods"]
    finally:
        discard(lifecycle, "gc-busy")


def test_gc_volumes_keeps_agent_state_within_retention(isolated, ctx, lifecycle, repo, engine, lookalikes):
    create(ctx, "gc-orphan-3", repo)
    lifecycle.remove("gc-orphan-3", force=True)  # keeps its agent state
    isolated.cli("volume", "create", "--label", f"{L.OWNER}={L.OWNER_VALUE}", "--label", f"{L.TASKSPACE}=ghost-4",
                 "--label", f"{L.ROLE}=build-cache", "taskspace-ghost-4-build-cache")
    try:
        before = full_inventory(isolated)
        result = run_cli("--url", isolated.uri, "gc-volumes", "--json")
        assert full_inventory(isolated) == before
        plan = json.loads(result.stdout)
        names = [i["volume"] for i in plan["items"]]
        assert "taskspace-ghost-4-build-cache" in names
        assert "taskspace-gc-orphan-3-agent-state" not in names
        assert [k["volume"] for k in plan["kept"]] == ["taskspace-gc-orphan-3-agent-state"]
        assert not any("fake" in n for n in names)
        applied = json.loads(run_cli("--url", isolated.uri, "gc-volumes", "--apply", "--json").stdout)
        assert {r["item"] for r in applied["results"] if r["result"] == "removed"} == set(names)
        after = full_inventory(isolated)
        assert "taskspace-ghost-4-build-cache" not in after["volumes"]
        assert "taskspace-gc-orphan-3-agent-state" in after["volumes"]
        # Past its retention the agent state goes too.
        ctx.paths.config_file.write_text("state_retention_days: 0\n")
        again = json.loads(run_cli("--url", isolated.uri, "gc-volumes", "--json").stdout)
        assert "taskspace-gc-orphan-3-agent-state" in [i["volume"] for i in again["items"]]
    finally:
        ctx.paths.config_file.unlink(missing_ok=True)
        isolated.cli("volume", "rm", "-f", "taskspace-gc-orphan-3-agent-state", "taskspace-ghost-4-build-cache")


@pytest.mark.network_backends
def test_gc_removes_the_network_and_rules_of_a_taskspace_that_is_gone(isolated, ctx, engine):
    import subprocess

    from symposium_tui.core.security import chain_name, firewall_plan

    network = engine.create_network("taskspace-gc-orphan-net", L.ours("network", "gc-orphan"))
    engine.apply_firewall(firewall_plan("gc-orphan", "isolated", network.interface))
    mangle = lambda: subprocess.run(["iptables", "-t", "mangle", "-S"], capture_output=True, text=True).stdout  # noqa: E731
    try:
        plan = json.loads(run_cli("--url", isolated.uri, "gc-volumes", "--json").stdout)
        [item] = [i for i in plan["items"] if i["kind"] == "network"]
        assert item["network"] == "taskspace-gc-orphan-net" and item["taskspace"] == "gc-orphan"
        assert "firewall rules" in item["command"]
        assert engine.network("taskspace-gc-orphan-net") is not None  # a dry run changes nothing
        applied = run_cli("--url", isolated.uri, "gc-volumes", "--apply", "--json")
        assert applied.returncode == 0, applied.stderr
        assert {"item": "taskspace-gc-orphan-net", "result": "removed", "bytes": 0} in \
            json.loads(applied.stdout)["results"]
        assert engine.network("taskspace-gc-orphan-net") is None
        assert chain_name("gc-orphan") not in mangle() and "taskspace=gc-orphan" not in mangle()
    finally:
        engine.remove_firewall("gc-orphan")
        engine.remove_network("taskspace-gc-orphan-net")


def test_cleanup_arguments_are_checked(isolated):
    for args in (["--inactive-for", "soon"], ["--inactive-days", "-1"],
                 ["--inactive-days", "1", "--inactive-for", "2h"]):
        assert_clean_failure(run_cli("--url", isolated.uri, "cleanup", *args), 2)


def test_each_stopped_workspace_is_checked_alone(isolated, ctx, lifecycle, repo, monkeypatch):
    """#22 item 3: git reads a workspace's attributes and filters (the agent's to write), so
    no check may run where another taskspace's files are mounted."""
    from symposium_tui.core.services.lifecycle import Lifecycle

    for taskspace, name in (("gc-alone-a", "a.txt"), ("gc-alone-b", "b.txt")):
        create(ctx, taskspace, repo)
        assert ssh(ctx, f"{taskspace}-dev", f"echo wip > /workspace/{name}").returncode == 0
        lifecycle.stop(taskspace)
    mounts: list[list[str]] = []
    real_run = ctx.backend.engine.run

    def spy(spec, *args, **kwargs):
        mounts.append([v.name for v in spec.volumes if v.name.endswith("-workspace")])
        return real_run(spec, *args, **kwargs)
    monkeypatch.setattr(ctx.backend.engine, "run", spy)
    try:
        checker = Lifecycle(ctx)
        works = checker.unsaved_work_many({t: checker.inventory(t) for t in ("gc-alone-a", "gc-alone-b")})
        assert any("a.txt" in line for line in works["gc-alone-a"].uncommitted)
        assert not any("b.txt" in line for line in works["gc-alone-a"].uncommitted)
        assert any("b.txt" in line for line in works["gc-alone-b"].uncommitted)
        assert not any("a.txt" in line for line in works["gc-alone-b"].uncommitted)
        assert sorted(mounts) == [["taskspace-gc-alone-a-workspace"], ["taskspace-gc-alone-b-workspace"]]
    finally:
        monkeypatch.undo()
        for taskspace in ("gc-alone-a", "gc-alone-b"):
            discard(lifecycle, taskspace)


def test_a_taskspace_started_during_a_long_apply_is_not_removed(isolated, ctx, lifecycle, repo):
    """#22 item 10: apply re-checked every item against one snapshot taken when it began, and
    start took no lock: one started (and worked in) while earlier items were removed went too."""
    for taskspace in ("gc-long-a", "gc-long-b"):
        create(ctx, taskspace, repo)
        lifecycle.stop(taskspace)
        age(ctx, taskspace, 3)
    try:
        plan = Cleanup(ctx).plan(timedelta(days=1))
        assert [i.taskspace for i in plan.items] == ["gc-long-a", "gc-long-b"]

        def meanwhile(taskspace: str, what: str) -> None:
            if taskspace == "gc-long-a" and what == "re-checking":  # while the first is being removed
                lifecycle.start("gc-long-b")
        outcomes = {o.item: o.result for o in Cleanup(ctx).apply(plan, progress=meanwhile, workers=1)}
        assert outcomes["gc-long-a"] == "removed"
        assert outcomes["gc-long-b"] == "skipped: it is running again", outcomes
        assert "taskspace-gc-long-b" in inventory(isolated)["pods"]
        # and a start while the taskspace's lock is held (a create, a remove) is refused
        with ctx.taskspace_lock("gc-long-b"):
            with pytest.raises(SymposiumError, match="is busy: another command"):
                lifecycle.restart("gc-long-b")
    finally:
        for taskspace in ("gc-long-a", "gc-long-b"):
            discard(lifecycle, taskspace)
