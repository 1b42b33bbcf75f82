"""Deterministic pictures of the dashboard: fixed data, fixed sizes, no engine, no clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from symposium_tui.core.cleanup import CleanupItem, Thing
from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.models import ContainerInfo, ContainerState
from symposium_tui.core.services.cleanup import CleanupPlan
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus
from symposium_tui.core.services.storage import StorageUse
from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.messages import SnapshotTaken

SIZES = [(80, 24), (120, 40)]


def containers(ts: str, dev_state: str = "running") -> dict[str, ContainerInfo]:
    return {"agent": ContainerInfo("a", f"taskspace-{ts}-agent", "", ContainerState.RUNNING),
            "dev": ContainerInfo("d", f"taskspace-{ts}-dev", "", ContainerState(dev_state))}


FIXED = Snapshot(time=0.0, taskspaces=(
    TaskspaceStatus("checkout-v2", Health(HealthState.HEALTHY), "web-shop", "minimal", 37919, 39517, 12.5,
                    180 * 2**20, 2**30, 500, None, containers("checkout-v2"),
                    StorageUse("checkout-v2", 52 * 2**20, 2 * 2**30, {"project": 52 * 2**20}, enforced=True),
                    security="isolated"),
    TaskspaceStatus("fix-login-2", Health(HealthState.DEGRADED, "dev exited (exit code 137)"), "web-shop",
                    "default", 34335, 41281, 3.0, 95 * 2**20, 4 * 2**30, 2000, None,
                    containers("fix-login-2", "exited"), security="open"),
    TaskspaceStatus("ledger-sync", Health(HealthState.STOPPED, "stopped by the user"), "payments-api",
                    "default", 44581, 46587, 0.0, None, 4 * 2**30, 2000, None, {}, security="restricted"),
), registry_only=("old-spike",))


def fixed_app() -> SymposiumApp:
    app = SymposiumApp(connect=False)
    app.engine_text = "podman 4.3.1 · unix:///run/podman/podman.sock (rootful socket)"
    return app


async def show(pilot) -> None:
    pilot.app.post_message(SnapshotTaken(FIXED))
    await pilot.pause()


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
    async def form(pilot):
        await show(pilot)
        pilot.app.services = object()  # the form opens only when connected; it reads no engine here
        from symposium_tui.ui.screens.create import CreateScreen

        pilot.app.services = None
        await pilot.app.push_screen(CreateScreen())
        await pilot.press(*"Bad_Id")
    assert snap_compare(fixed_app(), terminal_size=size, run_before=form)


@pytest.mark.parametrize("size", SIZES)
def test_cleanup_preview(snap_compare, size):
    plan = CleanupPlan((CleanupItem(
        "old-spike", "stopped", 3 * 86400, "last activity 3d ago (2026-11-25 09:12 UTC); stopped since 2026-11-25 09:40 UTC",
        (Thing("pod", "taskspace-old-spike", "pod"), Thing("volume", "taskspace-old-spike-project", "project", 48 * 2**20),
         Thing("volume", "taskspace-old-spike-build-cache", "build-cache", 310 * 2**20)),
        (Thing("volume", "taskspace-old-spike-agent-state", "agent-state"),)),), timedelta(days=1), False, None)

    async def preview(pilot):
        from symposium_tui.ui.screens.cleanup import CleanupScreen

        screen = CleanupScreen("1d")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.show_plan(plan)
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=preview)


@pytest.mark.parametrize("size", SIZES)
def test_logs(snap_compare, size):
    async def logs(pilot):
        from symposium_tui.ui.screens.logs import LogsScreen

        screen = LogsScreen("checkout-v2")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.add_lines(["symposium: dev container ready, sshd on port 2222",
                          "npm test: 42 passing", "npm test: 1 failing: checkout total rounds wrong"])
        await pilot.press("slash", *"failing", "enter")
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=logs)


@pytest.mark.parametrize("size", SIZES)
def test_adjust(snap_compare, size):
    async def adjust(pilot):
        from symposium_tui.core.policy import Limits
        from symposium_tui.ui.screens.adjust import AdjustScreen

        screen = AdjustScreen("checkout-v2")
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen._error("")
        screen.current = Limits(2**30, 500, 2 * 2**30)
        screen._loaded(screen.current, ["default", "minimal", "premium"])
        screen.query_one("#change").update("memory 1Gi -> 1536Mi, cpu 500m -> 1")
        await pilot.pause()
    assert snap_compare(fixed_app(), terminal_size=size, run_before=adjust)


def test_remove_confirmation(snap_compare):
    class Inventory:
        volumes = ()

    class FakeLifecycle:  # fixed answers for a deterministic picture; behaviour is tested on the engine
        def inventory(self, taskspace):
            from symposium_tui.core.models import VolumeInfo

            inv = Inventory()
            inv.volumes = tuple(VolumeInfo(f"taskspace-{taskspace}-{r}", "/x", {"io.symposium.role": r})
                                for r in ("workspace", "project", "build-cache", "agent-state"))
            return inv

        def unsaved_work(self, taskspace, inventory):
            from symposium_tui.core.services.lifecycle import UnsavedWork

            return UnsavedWork(("M src/cart.py",), ())

    async def confirm(pilot):
        from symposium_tui.ui.screens.confirm import RemoveScreen

        await pilot.app.push_screen(RemoveScreen("checkout-v2", FakeLifecycle()))
        await pilot.pause(0.3)
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=confirm)


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
