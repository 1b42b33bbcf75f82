"""Deterministic pictures of the dashboard: fixed data, fixed sizes, no engine, no clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input

from symposium_tui.core.cleanup import CleanupItem, Thing
from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.models import HostCapacity
from symposium_tui.core.services.cleanup import CleanupPlan
from symposium_tui.core.services.lifecycle import UnsavedWork
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus
from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.messages import SnapshotTaken
from tests.ui.data import CHANGES, FIXED, containers, fixed_app, press, show
from tests.ui.fakes import GiB, FakeChanges, FakeCtx, FakeEngine, FakeLifecycle, connect_fake

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def snap_compare(snap_compare):
    """The plugin's compare, with every text box's cursor held steady: it blinks every 0.5 s, and on
    a loaded machine the picture was taken in the off half (a CI failure)."""
    def compare(app, run_before=None, **options):
        async def steady(pilot):
            if run_before is not None:
                await run_before(pilot)
            for box in pilot.app.screen.query(Input):
                box.cursor_blink = False  # shows the cursor and stops its timer
            await pilot.pause()
        return snap_compare(app, run_before=steady, **options)
    return compare


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, size):
    assert snap_compare(fixed_app(), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", SIZES)
def test_details(snap_compare, size):
    async def details(pilot):
        await show(pilot)
        await pilot.press("enter")
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=details)


def test_keys(snap_compare):
    async def keys(pilot):
        await show(pilot)
        await pilot.press("question_mark")
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=keys)


def test_filter(snap_compare):
    async def filtered(pilot):
        await show(pilot)
        await pilot.press("slash", *"ledger")
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=filtered)


@pytest.mark.parametrize("size", SIZES)
def test_create_form(snap_compare, size):
    """Each tier with its values; premium is more than this host (2 CPUs, 6 GiB) can give."""
    async def form(pilot):
        connect_fake(pilot.app, ctx=FakeCtx(backend=FakeEngine(HostCapacity(2, 6 * GiB, False))))
        await show(pilot)
        await pilot.press("n")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press(*"Bad_Id")
    assert snap_compare(fixed_app(), terminal_size=size, run_before=form)


def spike(taskspace: str, unsaved: str = "") -> CleanupItem:
    return CleanupItem(
        taskspace, "stopped", 3 * 86400,
        "last activity 3d ago (2026-11-25 09:12 UTC); stopped since 2026-11-25 09:40 UTC",
        (Thing("pod", f"taskspace-{taskspace}", "pod"),
         Thing("volume", f"taskspace-{taskspace}-project", "project", 48 * 2**20),
         Thing("volume", f"taskspace-{taskspace}-build-cache", "build-cache", 310 * 2**20)),
        (Thing("volume", f"taskspace-{taskspace}-agent-state", "agent-state"),), False, unsaved)


PLAN = CleanupPlan((
    spike("old-spike"),
    spike("try-cart", "1 file changed (M src/cart.py)"),
), timedelta(days=1), False, None)


@pytest.mark.parametrize("size", SIZES)
def test_cleanup_preview(snap_compare, size):
    """What the selected item removes, keeps and frees; what Apply will really do; the force box."""
    async def preview(pilot):
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        screen = CleanupScreen("1d")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.show_plan(PLAN)
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=preview)


def test_cleanup_preview_read_only(snap_compare):
    async def preview(pilot):
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        screen = CleanupScreen("1d")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.show_plan(PLAN)
        await pilot.pause()
    assert snap_compare(fixed_app(read_only=True), terminal_size=(80, 24), run_before=preview)


def test_home_read_only(snap_compare):
    assert snap_compare(fixed_app(read_only=True), terminal_size=(80, 24), run_before=show)


async def open_logs(pilot):
    from symposium_tui.ui.screens.logs import LogsScreen

    screen = LogsScreen("checkout-v2")
    await pilot.app.push_screen(screen)
    await pilot.pause()
    screen.add_lines(["symposium: dev container ready, sshd on port 2222", "npm test: 42 passing",
                      "npm test: 1 failing: checkout total rounds wrong", "npm test: [red]not markup[/]"])
    return screen


@pytest.mark.parametrize("size", SIZES)
def test_logs(snap_compare, size):
    async def logs(pilot):
        await open_logs(pilot)
        await pilot.press("slash", *"failing", "enter")
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=logs)


def test_keys_of_the_logs_screen(snap_compare):
    async def keys(pilot):
        await open_logs(pilot)
        await pilot.press("question_mark")
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=keys)


@pytest.mark.parametrize("size", SIZES)
def test_adjust(snap_compare, size):
    """Tier minimal chosen: memory and CPU change, the project disk keeps its 10Gi."""
    async def adjust(pilot):
        from symposium_tui.core.policy import Limits, builtin_policy
        from symposium_tui.ui.screens.adjust import AdjustScreen

        screen = AdjustScreen("checkout-v2")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen._error("")
        current = Limits(4 * GiB, 2000, 10 * GiB)
        tiers = {name: tier.limits for name, tier in sorted(builtin_policy().tiers.items())}
        screen._loaded(current, tiers, storage_fixed=True, capacity=HostCapacity(2, 6 * GiB, False))
        screen.query_one("#tier").value = "minimal"
        screen._previewed(screen.describe(current, tiers["minimal"]), "")
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=adjust)


@pytest.mark.parametrize("press_remove", [False, True], ids=["asked", "refused"])
def test_remove_confirmation(snap_compare, press_remove):
    """What goes and what is kept; pressing Remove on unsaved work: the refusal, in the dialog."""
    async def confirm(pilot):
        connect_fake(pilot.app, lifecycle=FakeLifecycle({"checkout-v2": UnsavedWork(("M src/cart.py",), ())}))
        await show(pilot)
        await pilot.press("d")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if press_remove:
            pilot.app.screen.query_one("#remove").active_effect_duration = 0  # no pressed look
            await press(pilot, "#remove")
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=confirm)


def test_changes(snap_compare):
    """D on checkout-v2: the files (uncommitted ones starred, a binary one), the commits, the patch
    coloured as a diff; markup, a tab and escape sequences from the agent shown as text; the cut said."""
    async def changes(pilot):
        connect_fake(pilot.app, changes=FakeChanges({"checkout-v2": CHANGES}))
        await show(pilot)
        await pilot.press("D")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=changes)


REMOTE = Snapshot(time=0.0, taskspaces=(
    TaskspaceStatus("reindex-7", Health(HealthState.HEALTHY), "search-index", "default", 44401, 34675, 1.0,
                    60 * 2**20, 4 * 2**30, 2000, None, containers("reindex-7"), security="open"),
), engine_error="host box2 (core@box2:22) is unreachable over SSH: ssh: connect to host box2 port 22: "
                "Connection refused")


@pytest.mark.parametrize("size", SIZES)
def test_all_hosts_with_one_down(snap_compare, size):
    """Two hosts in one list with a HOST column; box2 does not answer: its last rows stay, marked."""
    async def both(pilot):
        app = pilot.app
        app.hosts["local"].text = "podman 4.3.1 · unix:///run/podman/podman.sock (rootful socket)"
        app.hosts["local"].services = None
        app.post_message(SnapshotTaken(FIXED, host="local"))
        app.post_message(SnapshotTaken(REMOTE, host="box2"))
        await pilot.pause()
    app = SymposiumApp(connect=False, hosts=["local", "box2"])
    assert snap_compare(app, terminal_size=size, run_before=both)
