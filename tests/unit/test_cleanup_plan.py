from datetime import datetime, timedelta, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.cleanup import TaskspaceFacts, plan_cleanup, plan_gc
from symposium_tui.core.models import ContainerInfo, ContainerState, NetworkInfo, PodInfo, VolumeInfo
from symposium_tui.core.units import parse_duration

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def vol(name, taskspace, role, created=None, ours=True):
    labels = ({L.OWNER: L.OWNER_VALUE} if ours else {}) | {L.TASKSPACE: taskspace, L.ROLE: role}
    return VolumeInfo(name, "/x", labels, created)


def facts(taskspace, days_idle, running=False, **entry):
    pod = PodInfo("id-" + taskspace, f"taskspace-{taskspace}", "exited", L.ours("pod", taskspace),
                  NOW - timedelta(days=60))
    state = ContainerState.RUNNING if running else ContainerState.EXITED
    containers = tuple(ContainerInfo(f"c{r}", f"taskspace-{taskspace}-{r}", "", state, L.ours(r, taskspace))
                       for r in ("agent", "dev"))
    volumes = tuple(vol(f"taskspace-{taskspace}-{r}", taskspace, r)
                    for r in ("project", "workspace", "build-cache", "agent-state"))
    if days_idle is not None:
        entry["last_activity"] = (NOW - timedelta(days=days_idle)).isoformat()
    return TaskspaceFacts(taskspace, pod, containers, volumes, entry)


def test_inactivity_comes_from_last_activity_not_creation():
    items = plan_cleanup([facts("a-b-c", 0.5), facts("d-e", 3)], {"taskspace-d-e-project": 100}, NOW,
                         timedelta(days=1), timedelta(days=30), False)
    assert [i.taskspace for i in items] == ["d-e"]
    assert items[0].bytes_reclaimed == 100
    assert {t.role for t in items[0].remove if t.kind == "volume"} == {"project", "workspace", "build-cache"}
    assert [t.role for t in items[0].keep] == ["agent-state"]


def test_creation_time_only_when_nothing_else_is_known():
    items = plan_cleanup([facts("old", None)], {}, NOW, timedelta(days=1), timedelta(days=90), False)
    assert "created (no activity recorded) 60d ago" in items[0].why


def test_running_needs_include_running_and_retention_purges_state():
    busy = facts("busy-1", 40, running=True)
    assert plan_cleanup([busy], {}, NOW, timedelta(days=1), timedelta(days=30), False) == []
    item = plan_cleanup([busy], {}, NOW, timedelta(days=1), timedelta(days=30), True)[0]
    assert item.purge_state and "agent-state" in {t.role for t in item.remove}


def test_gc_uses_labels_not_dashes():
    volumes = [vol("taskspace-fix-login-2-project", "fix-login-2", "project"),
               vol("taskspace-fix-login-2-agent-state", "fix-login-2", "agent-state", NOW - timedelta(days=2)),
               vol("taskspace-fix-project", "fix", "project"),  # its taskspace lives
               vol("taskspace-x-project", "x", "project", ours=False)]
    goes, stays = plan_gc(volumes, {"fix"}, set(), {}, {}, NOW, timedelta(days=30))
    assert [g.volume.name for g in goes] == ["taskspace-fix-login-2-project"]
    assert [s.volume.name for s in stays] == ["taskspace-fix-login-2-agent-state"]
    goes, _ = plan_gc(volumes, {"fix"}, set(), {}, {"fix-login-2": (NOW - timedelta(days=31)).isoformat()},
                      NOW, timedelta(days=30))
    assert "taskspace-fix-login-2-agent-state" in [g.volume.name for g in goes]


def test_durations():
    assert parse_duration("90m") == 5400 and parse_duration("2h") == 7200 and parse_duration("0s") == 0
    assert parse_duration("1.5d") == 129600


def test_gc_ages_agent_state_only_from_a_recorded_removal():
    """#22 item 4: a taskspace briefly without a pod (a level change) had its agent state aged by
    the volume's creation date, and planned as expired."""
    old_state = vol("taskspace-lvl-2-agent-state", "lvl-2", "agent-state", NOW - timedelta(days=400))
    goes, stays = plan_gc([old_state], set(), set(), {}, {}, NOW, timedelta(days=30))
    assert goes == []
    [kept] = stays
    assert "removal is not recorded" in kept.why and "symposium-tui rm lvl-2 --purge-state" in kept.why
    removed = {"lvl-2": (NOW - timedelta(days=31)).isoformat()}
    assert [g.volume.name for g in plan_gc([old_state], set(), set(), {}, removed, NOW, timedelta(days=30))[0]] \
        == ["taskspace-lvl-2-agent-state"]


def test_gc_leaves_taskspaces_that_are_not_gone_with_the_reason():
    volumes = [vol("taskspace-held-1-workspace", "held-1", "workspace"),
               vol("taskspace-held-1-agent-state", "held-1", "agent-state"),
               vol("taskspace-gone-2-workspace", "gone-2", "workspace")]
    networks = (NetworkInfo("taskspace-held-1-net", "sym00000001", labels=L.ours("network", "held-1")),)
    goes, stays = plan_gc(volumes, set(), set(), {}, {"held-1": (NOW - timedelta(days=99)).isoformat()}, NOW,
                          timedelta(days=30), networks, held={"held-1": "it is being changed right now"})
    assert [g.volume.name for g in goes] == ["taskspace-gone-2-workspace"]
    assert {s.volume.name for s in stays} == {"taskspace-held-1-workspace", "taskspace-held-1-agent-state",
                                              "taskspace-held-1-net"}
    assert all(s.why.endswith("which has no pod but is not gone: it is being changed right now") for s in stays)
