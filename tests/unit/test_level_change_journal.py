"""#22 item 4, security: a level change is journaled before the old pod goes, and the next
command (Recovery.run) finishes one that was killed half-way. On the fake backend
(fake_backend.py), which "dies" (raises Killed, no rollback) where a test says."""

from __future__ import annotations

import json

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.cleanup import Cleanup
from symposium_tui.core.services.lifecycle import Lifecycle
from symposium_tui.core.services.recovery import Recovery
from symposium_tui.core.services.security import SecurityChange
from tests.unit.fake_backend import FakeBackend, Killed, fake_context

TS = "lvl-1"


@pytest.fixture
def fake() -> FakeBackend:
    backend = FakeBackend()
    backend.add_taskspace(TS, "open")
    return backend


@pytest.fixture
def ctx(monkeypatch, tmp_path, fake):
    context = fake_context(monkeypatch, tmp_path, fake)
    context.registry.put(TS, {"security": "open", "project": "demo", "tier": "minimal", "status": "running",
                              "last_activity": "2026-01-01T00:00:00+00:00"})
    return context


def journal_file(ctx) -> dict | None:
    path = ctx.paths.state_dir / "creating" / f"{TS}.json"
    return json.loads(path.read_text()) if path.exists() else None


def killed_during(fake: FakeBackend, ctx, call: str, when=lambda what, name: True) -> None:  # noqa: ANN001
    def die(what: str, name: str) -> None:
        if when(what, name):
            raise Killed()
    fake.before[call] = die
    with pytest.raises(Killed):
        SecurityChange(ctx).change(TS, "isolated")
    del fake.before[call]


def pod_level(fake: FakeBackend) -> str | None:
    pod = fake.find("pod", f"taskspace-{TS}")
    return pod.labels.get(L.SECURITY) if pod else None


def test_the_journal_is_written_before_the_old_pod_goes(fake, ctx):
    seen = []
    fake.before["remove"] = lambda kind, name: seen.append((kind, journal_file(ctx))) if kind == "pod" else None
    old, now = SecurityChange(ctx).change(TS, "isolated")
    assert (old, now.security) == ("open", "isolated")
    [(kind, entry)] = seen
    assert entry is not None, "the old pod was removed with no journal written"
    assert (entry["kind"], entry["old"], entry["new"], entry["making"]) == ("security", "open", "isolated", None)
    assert entry["launch"]["storage"]["workspace"] == f"taskspace-{TS}-workspace"
    assert entry["was_running"] is True and entry["registered"]["project"] == "demo"
    assert journal_file(ctx) is None  # done: the journal goes
    assert ctx.registry.read()[TS]["change_id"] == entry["create_id"]


@pytest.mark.parametrize("point", ["launch", "launched"])
def test_killed_while_the_new_pod_is_made_the_next_command_makes_it(fake, ctx, point):
    """launch: killed with no pod at all; launched: with the new pod half made, never registered."""
    killed_during(fake, ctx, point)
    assert journal_file(ctx)["making"] == "isolated"
    row = {t.id: t for t in Lifecycle(ctx).list().taskspaces}[TS]
    assert "security change open -> isolated was interrupted; the next command makes its pod again" in row.reason
    if point == "launch":
        # Between its two pods the taskspace is not gone: ls kept its record, gc keeps its volumes.
        assert TS in ctx.registry.read() and row.status == "missing"
        plan = Cleanup(ctx).plan_gc()
        assert not [i for i in plan.items if i.taskspace == TS]
        assert any("security change open -> isolated was interrupted" in i.why for i in plan.kept)
    ctx.registry.remove(TS)  # something dropped its record meanwhile (an older version's ls)

    fake.launches.clear()
    [done] = Recovery(ctx).run()
    assert fake.launches == ["isolated"]
    assert "its security change open -> isolated" in done.describe() and "made again at the isolated level" \
        in done.describe()
    assert pod_level(fake) == "isolated" and len(fake.pods) == 1
    assert journal_file(ctx) is None
    entry = ctx.registry.read()[TS]
    assert (entry["security"], entry["project"], entry["status"]) == ("isolated", "demo", "running")
    assert Recovery(ctx).run() == []


def test_killed_before_the_old_pod_went_nothing_is_changed(fake, ctx):
    killed_during(fake, ctx, "remove")
    [done] = Recovery(ctx).run()
    assert "nothing had changed yet: it stays at the open level" in done.describe()
    assert fake.launches == [] and pod_level(fake) == "open" and journal_file(ctx) is None


def test_killed_after_the_old_pod_went_it_is_made_at_the_old_level(fake, ctx):
    killed_during(fake, ctx, "remove", lambda kind, name: kind == "container")  # the pod is gone
    assert fake.find("pod", f"taskspace-{TS}") is None and journal_file(ctx)["making"] is None
    [done] = Recovery(ctx).run()
    assert fake.launches == ["open"] and pod_level(fake) == "open"
    assert ctx.registry.read()[TS]["security"] == "open" and "at the open level" in done.describe()


def test_killed_after_it_registered_only_the_journal_goes(fake, ctx):
    SecurityChange(ctx).change(TS, "isolated")
    # what a change killed between registering and removing its journal leaves
    (ctx.paths.state_dir / "creating" / f"{TS}.json").write_text(json.dumps(
        {"kind": "security", "taskspace": TS, "create_id": ctx.registry.read()[TS]["change_id"], "pid": 1,
         "old": "open", "new": "isolated", "making": "isolated", "was_running": True, "launch": {}}))
    fake.launches.clear()
    [done] = Recovery(ctx).run()
    assert "it had finished" in done.describe() and fake.launches == [] and journal_file(ctx) is None


def test_when_no_pod_can_be_made_it_stays_registered_and_says_what_to_run(fake, ctx):
    killed_during(fake, ctx, "launched")
    fake.failing_levels = {"isolated", "open"}
    [done] = Recovery(ctx).run()
    text = done.describe()
    assert "its pod could not be made again" in text and "stays registered without a pod" in text
    assert f"symposium-tui security {TS} LEVEL" in text and f"symposium-tui rm {TS}" in text
    assert journal_file(ctx)["gave_up"] and TS in ctx.registry.read()
    # Not tried again on its own (the dashboard's poller runs this every tick)...
    fake.launches.clear()
    assert Recovery(ctx).run() == [] and fake.launches == []
    # ...kept registered by ls, and its volumes by gc, with the reason and the way out.
    row = {t.id: t for t in Lifecycle(ctx).list().taskspaces}[TS]
    assert TS in ctx.registry.read() and f"symposium-tui security {TS} LEVEL" in row.reason
    assert not [i for i in Cleanup(ctx).plan_gc().items if i.taskspace == TS]
    # security ID LEVEL takes it from there.
    fake.failing_levels = set()
    old, now = SecurityChange(ctx).change(TS, "restricted")
    assert (old, now.security, pod_level(fake)) == ("open", "restricted", "restricted")
    assert journal_file(ctx) is None


def test_rm_of_a_taskspace_left_without_a_pod_ends_its_journal(fake, ctx):
    killed_during(fake, ctx, "launched")
    fake.failing_levels = {"isolated", "open"}
    Recovery(ctx).run()
    assert journal_file(ctx)["gave_up"]
    Lifecycle(ctx).remove(TS, force=True)
    assert journal_file(ctx) is None and TS not in ctx.registry.read()
    assert [v.name for v in fake.volumes] == [f"taskspace-{TS}-agent-state"]


def test_a_change_that_fails_at_the_new_level_is_put_back_and_registered(fake, ctx):
    fake.failing_levels = {"isolated"}
    with pytest.raises(SymposiumError, match=f"{TS} is back at the open level"):
        SecurityChange(ctx).change(TS, "isolated")
    assert pod_level(fake) == "open" and journal_file(ctx) is None
    dev = next(c for c in fake.containers if c.name.endswith("-dev"))
    entry = ctx.registry.read()[TS]
    assert entry["security"] == "open" and dev.running
    assert (entry["dev_port"], entry["agent_port"]) == fake.ports[TS]  # the put-back pod's new ports
