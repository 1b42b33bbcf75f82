"""#22 item 4, gc: a taskspace without a pod is gone only when nothing says it is coming back
(registered, locked, journaled); a gone one's workspace is checked for unsaved work; apply
re-checks under its lock. On the fake backend (fake_backend.py): the decisions, not podman."""

from __future__ import annotations

import pytest

from symposium_tui.core.services.cleanup import Cleanup
from tests.unit.fake_backend import FakeBackend, fake_context, uncommitted

TS = "gc-held"


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def ctx(monkeypatch, tmp_path, fake):
    return fake_context(monkeypatch, tmp_path, fake)


def podless(fake: FakeBackend, ctx, taskspace: str = TS, level: str = "isolated", registered: bool = True) -> None:
    """A taskspace as a level change leaves it between its two pods: volumes (and network), no pod."""
    fake.add_taskspace(taskspace, level)
    if registered:
        ctx.registry.put(taskspace, {"security": level, "project": "demo"})
    fake.remove("pod", f"taskspace-{taskspace}")


def names(items) -> set[str]:
    return {i.volume.name for i in items}


def test_a_registered_taskspace_without_a_pod_is_not_gone(fake, ctx):
    podless(fake, ctx)
    plan = Cleanup(ctx).plan_gc()
    assert not [i for i in plan.items if i.taskspace == TS], [i.as_dict() for i in plan.items]
    kept = {i.volume.name: i.why for i in plan.kept if i.taskspace == TS}
    assert {f"taskspace-{TS}-workspace", f"taskspace-{TS}-project-disk", f"taskspace-{TS}-net"} <= set(kept)
    assert "registry still has it" in kept[f"taskspace-{TS}-workspace"]
    assert f"symposium-tui rm {TS}" in kept[f"taskspace-{TS}-workspace"]


def test_a_locked_taskspace_without_a_pod_is_not_gone(fake, ctx):
    podless(fake, ctx, registered=False)
    with ctx.taskspace_lock(TS):  # a create, change or remove of it under way
        plan = Cleanup(ctx).plan_gc()
    assert not [i for i in plan.items if i.taskspace == TS]
    assert all("being created, changed or removed right now" in i.why for i in plan.kept if i.taskspace == TS)
    # Gone for good (not registered, not locked): planned.
    assert f"taskspace-{TS}-workspace" in names(Cleanup(ctx).plan_gc().items)


def test_a_gone_workspace_with_unsaved_work_is_flagged_and_needs_force(fake, ctx):
    podless(fake, ctx, registered=False)
    fake.work[TS] = uncommitted("notes.txt")
    plan = Cleanup(ctx).plan_gc()
    flagged = {i.volume.name: i.warning for i in plan.items if i.taskspace == TS}
    assert "1 file changed (M notes.txt)" in flagged[f"taskspace-{TS}-workspace"]
    assert "skipped on apply unless --force" in flagged[f"taskspace-{TS}-project-disk"]
    assert flagged[f"taskspace-{TS}-build-cache"] == ""  # holds no workspace
    as_json = {i["volume"]: i for i in plan.as_dict()["items"] if i["kind"] == "volume"}
    assert "notes.txt" in as_json[f"taskspace-{TS}-workspace"]["unsaved"]

    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    for role in ("workspace", "project", "project-disk"):
        assert outcomes[f"taskspace-{TS}-{role}"].startswith("skipped: it holds work that exists nowhere else")
        assert fake.find("volume", f"taskspace-{TS}-{role}") is not None
    assert outcomes[f"taskspace-{TS}-build-cache"] == "removed"

    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan, force=True)}
    assert outcomes[f"taskspace-{TS}-workspace"] == "removed"
    assert fake.find("volume", f"taskspace-{TS}-project-disk") is None


def test_apply_re_reads_each_taskspace_under_its_lock(fake, ctx):
    podless(fake, ctx, registered=False)
    plan = Cleanup(ctx).plan_gc()
    assert f"taskspace-{TS}-workspace" in names(plan.items)
    ctx.registry.put(TS, {"security": "isolated"})  # it is being made again since the plan
    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    assert outcomes[f"taskspace-{TS}-workspace"] == f"skipped: taskspace {TS} is registered again"
    ctx.registry.remove(TS)
    with ctx.taskspace_lock(TS):
        outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    assert outcomes[f"taskspace-{TS}-workspace"].startswith(f"skipped: taskspace {TS!r} is busy")
    assert all(fake.find("volume", name) is not None for name in names(plan.items) if "-net" not in name)
    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    assert set(outcomes.values()) == {"removed"}, outcomes
    assert not [v for v in fake.volumes if TS in v.name and not v.name.endswith("agent-state")]


# -- #19: a kept base's generations ---------------------------------------------------------------
OLD, NEW = "a" * 40, "b" * 40


def with_generations(fake: FakeBackend) -> str:
    from symposium_tui.core import labels as L
    from symposium_tui.core.backend import Generation
    from symposium_tui.core.models import VolumeInfo

    fake.add_taskspace("reader")
    base = "symposium-base-demo-0123456789"
    fake.pods = [type(p)(p.id, p.name, p.status, p.labels | {L.REPO: "/src/demo"}) for p in fake.pods]
    fake.volumes.append(VolumeInfo(base, "/b", L.ours("project-base") | {L.REPO: "/src/demo"}))
    fake.bases[base] = [Generation(base, OLD, 5000, ()), Generation(base, NEW, 700, ("reader",))]
    return base


def test_a_generation_no_workspace_reads_goes_and_one_read_stays(fake, ctx):
    base = with_generations(fake)
    plan = Cleanup(ctx).plan_gc()
    goes = [i for i in plan.items if i.volume.kind == "generation"]
    stays = [i for i in plan.kept if i.volume.kind == "generation"]
    assert [(i.volume.name, i.volume.bytes) for i in goes] == [(f"{base}/{OLD}", 5000)]
    assert [i.volume.name for i in stays] == [f"{base}/{NEW}"] and "reader" in stays[0].why
    assert base not in names(plan.items)  # the base itself stays: a taskspace uses its repository
    assert goes[0].command == f"fake rm generation {base}/{OLD}"  # the backend spells it
    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    assert outcomes == {f"{base}/{OLD}": "removed"}
    assert [g.commit for g in fake.bases[base]] == [NEW]


def test_a_generation_read_again_since_the_plan_is_skipped(fake, ctx):
    from dataclasses import replace

    base = with_generations(fake)
    plan = Cleanup(ctx).plan_gc()
    fake.bases[base] = [replace(g, users=("newcomer",)) for g in fake.bases[base]]  # a create read it
    outcomes = {o.item: o.result for o in Cleanup(ctx).apply_gc(plan)}
    assert outcomes[f"{base}/{OLD}"] == "skipped: newcomer reads it now"
    assert len(fake.bases[base]) == 2
