from datetime import datetime, timedelta, timezone

from symposium_tui.core import labels as L
from symposium_tui.core.cleanup import TaskspaceFacts, plan_cleanup, plan_gc
from symposium_tui.core.models import ContainerInfo, ContainerState, PodInfo, VolumeInfo
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
