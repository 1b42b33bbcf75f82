"""Fixed data for the dashboard tests without an engine: three taskspaces and one gone."""

from __future__ import annotations

from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.models import ContainerInfo, ContainerState
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus
from symposium_tui.core.services.storage import StorageUse
from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.messages import SnapshotTaken


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


def fixed_app(**options) -> SymposiumApp:
    app = SymposiumApp(connect=False, **options)
    app.engine_text = "podman 4.3.1 · unix:///run/podman/podman.sock (rootful socket)"
    return app


async def show(pilot, snapshot: Snapshot = FIXED) -> None:
    pilot.app.post_message(SnapshotTaken(snapshot))
    await pilot.pause()


def home_table(app):
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    return home.query_one("#taskspaces")


def row_keys(app) -> list[str]:
    return [str(key.value) for key in home_table(app).rows]


def cursor_key(app) -> str:
    table = home_table(app)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def select(app, taskspace: str) -> None:
    table = home_table(app)
    table.move_cursor(row=[k.removeprefix("gone:").split("/", 1)[1] for k in row_keys(app)].index(taskspace))


def text_of(widget) -> str:
    return str(widget.render())


async def press(pilot, selector: str) -> None:
    """Press a button as a click would (two clicks on one button within 0.2 s count once)."""
    from textual.widgets import Button

    pilot.app.screen.query_one(selector, Button).press()
    await pilot.pause()
