"""The CHANGES column's reads (core.services.changes_watch): a taskspace is read when it was never
read or did something since its last read began, one at a time, never all on every tick; and the
read's own exec is not taken for the taskspace's activity (which would make each read call for
the next)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.services.activity import Activity
from symposium_tui.core.services.changes import Changes, Commit, FileChange
from symposium_tui.core.services.changes_watch import ChangesWatch, cell
from symposium_tui.core.services.poller import TaskspaceStatus

T0 = 1_800_000_000.0  # a Unix time, whole seconds


def iso(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="seconds")


def status(taskspace: str, active: float | None = None, state: HealthState = HealthState.HEALTHY) -> TaskspaceStatus:
    return TaskspaceStatus(taskspace, Health(state), last_activity=iso(active) if active is not None else None)


def read_all(watch: ChangesWatch, statuses: list[TaskspaceStatus], now: float) -> list[str]:
    """Read what is due, one after the other as the dashboard does, each read taking a second."""
    read = []
    while (taskspace := watch.next_due(statuses, now)) is not None:
        watch.began(taskspace)
        assert watch.next_due(statuses, now) is None  # one at a time
        watch.finished(taskspace, f"+{len(read)} −0", now, now + 1)
        read.append(taskspace)
        now += 1
    return read


def test_each_taskspace_is_read_once_then_only_the_one_whose_activity_moved():
    watch = ChangesWatch(spacing=15.0)
    quiet = [status("a", T0 - 600), status("b"), status("c", T0 - 60)]
    assert [watch.text(t.id) for t in quiet] == [None, None, None]  # shown as "…"
    assert read_all(watch, quiet, T0) == ["a", "b", "c"]
    assert watch.text("a") == "+0 −0" and watch.text("c") == "+2 −0"
    # Tick after tick with nothing new: nothing is read, however long it runs.
    for tick in range(1, 200):
        assert watch.next_due(quiet, T0 + 2 * tick) is None
    # b did something: b alone is read again, once.
    busy = [quiet[0], status("b", T0 + 400), quiet[2]]
    assert read_all(watch, busy, T0 + 401) == ["b"]
    assert read_all(watch, busy, T0 + 450) == []


def test_activity_during_a_read_counts_and_reads_are_spaced():
    watch = ChangesWatch(spacing=15.0)
    assert read_all(watch, [status("a")], T0) == ["a"]  # began T0, ended T0 + 1
    during = [status("a", T0 + 0.5)]  # in the second the read began: it may have missed it
    assert watch.next_due(during, T0 + 5) is None  # too soon after the last read
    assert watch.next_due(during, T0 + 16) == "a"
    before = [status("a", T0 - 1)]  # before the read began: the read saw it
    assert watch.next_due(before, T0 + 100) is None


def test_a_creating_taskspace_waits_and_the_gone_are_forgotten():
    watch = ChangesWatch()
    statuses = [status("new", state=HealthState.CREATING), status("old")]
    assert read_all(watch, statuses, T0) == ["old"]
    assert read_all(watch, [status("new"), status("old")], T0 + 60) == ["new"]
    watch.forget_except(["new"])
    assert watch.text("old") is None and watch.text("new") is not None


def test_a_read_by_the_changes_screen_counts_and_an_older_one_does_not_overwrite_it():
    watch = ChangesWatch(spacing=0)
    watch.began("a")
    watch.record("a", "+9 −9", T0 + 5, T0 + 6)  # the screen's read, begun later
    watch.finished("a", "+1 −0", T0, T0 + 7)  # the column's, begun first, ended last
    assert watch.text("a") == "+9 −9" and watch.reading is None
    assert watch.next_due([status("a", T0 + 3)], T0 + 10) is None  # before the newer read began


def changes(added: int, removed: int, commits: int) -> Changes:
    files = (FileChange("f", "modified", added, removed),) if added or removed else ()
    return Changes("a", "0" * 40, "b", "", "", "", commits, tuple(Commit("1" * 40, "s") for _ in range(commits)),
                   files, ())


def test_the_cell():
    assert cell(changes(12, 3, 2)) == "+12 −3 · 2c"
    assert cell(changes(12, 3, 0)) == "+12 −3"
    assert cell(changes(0, 0, 0)) == "-"
    assert cell(changes(0, 0, 1)) == "+0 −0 · 1c"
    assert cell(changes(1234, 56789, 1500)) == "+1.2k −56k · 1.5kc"
    assert cell(replace(changes(0, 0, 0), uncommitted=("?? empty",))) == "+0 −0"


def test_an_own_read_s_exec_is_no_activity_but_others_are():
    clock = [T0]
    activity = Activity(None, 5.0, 65536, clock=lambda: clock[0])  # type: ignore[arg-type]
    with activity.own_read("a"):
        clock[0] = T0 + 1.5
        activity.saw_event("exec", "a", T0 + 1)  # ours
        activity.saw_event("exec", "b", T0 + 1)  # another taskspace's exec
    assert activity.iso("a", {}) is None and activity.iso("b", {}) == iso(T0 + 1)
    activity.saw_event("exec", "a", T0 + 2)  # late in the stream, still within the read's window
    assert activity.iso("a", {}) is None
    with activity.own_read("a"):
        activity.saw_event("start", "a", T0 + 1.5)  # a start is never ours
    assert activity.iso("a", {}) == iso(T0 + 1.5)
    activity.saw_event("exec", "a", T0 + 30)  # someone's exec, long after the read
    assert activity.iso("a", {}) == iso(T0 + 30)
    activity.saw_event("died", "a", T0 + 40)  # not activity
    assert activity.iso("a", {}) == iso(T0 + 30)


def test_running_taskspaces_are_read_before_stopped_ones():
    from symposium_tui.core.models import ContainerInfo, ContainerState

    running = replace(status("busy"), containers={"dev": ContainerInfo("d", "taskspace-busy-dev", "",
                                                                          ContainerState.RUNNING)})
    assert read_all(ChangesWatch(), [status("stopped"), running], T0) == ["busy", "stopped"]


class Registry:
    def __init__(self) -> None:
        self.entries: dict = {"a": {}}

    def update(self, change) -> None:
        change(self.entries)


def busy(cpu: float, pids: int = 3):
    from symposium_tui.core.stats import StatsSample

    return StatsSample(0.0, cpu, cpu / 100, 0, 0, pids, 0)


def test_the_dev_containers_cpu_in_the_tick_of_an_own_read_is_no_activity():
    from types import SimpleNamespace

    clock = [T0]
    activity = Activity(SimpleNamespace(registry=Registry()), 5.0, 65536, clock=lambda: clock[0])
    activity.record({"a": None}, {}, T0)  # the first tick
    with activity.own_read("a"):
        clock[0] = T0 + 0.3
    # The next tick: git's CPU and processes in the dev container were ours.
    activity.record({"a": None}, {"a": {"dev": (busy(8.0, 5), None)}}, T0 + 2)
    assert activity.iso("a", {}) is None
    # The agent's container is not where a read runs: its CPU counts, in such a tick too.
    with activity.own_read("a"):
        clock[0] = T0 + 3.3
    activity.record({"a": None}, {"a": {"dev": (busy(8.0), None), "agent": (busy(30.0), None)}}, T0 + 4)
    assert activity.iso("a", {}) == iso(T0 + 4)
    # A tick with no read of ours in it: the dev container's CPU counts again.
    activity.record({"a": None}, {"a": {"dev": (busy(8.0), None)}}, T0 + 10)
    assert activity.iso("a", {}) == iso(T0 + 10)
