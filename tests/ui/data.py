"""Fixed data for the dashboard tests without an engine: three taskspaces and one gone."""

from __future__ import annotations

from symposium_tui.core.agent import AgentSpec, AgentStatus, Signal, view
from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.models import ContainerInfo, ContainerState
from symposium_tui.core.services.changes import Changes, Commit, FileChange
from symposium_tui.core.services.poller import Snapshot, TaskspaceStatus
from symposium_tui.core.services.storage import StorageUse
from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.messages import SnapshotTaken


def containers(ts: str, dev_state: str = "running") -> dict[str, ContainerInfo]:
    return {"agent": ContainerInfo("a", f"taskspace-{ts}-agent", "", ContainerState.RUNNING),
            "dev": ContainerInfo("d", f"taskspace-{ts}-dev", "", ContainerState(dev_state))}


START = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
TIP = "7c1e9a0b2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"
PATCH = """diff --git a/README.md b/README.md
index 3b18e51..9d2f0c4 100644
--- a/README.md
+++ b/README.md
@@ -1,3 +1,4 @@
 # web-shop
-Checkout rounds totals down.
+Checkout rounds totals half-up.
+See [red]docs/rounding.md[/] (not markup).
diff --git a/src/cart.py b/src/cart.py
index 1f0a2b3..4c5d6e7 100644
--- a/src/cart.py
+++ b/src/cart.py
@@ -10,7 +10,7 @@ def total(items):
 \tsubtotal = sum(i.price for i in items)
--- a removed line that starts like a header
+\treturn round(subtotal, 2)  # was: floor\x1b[31m
 \tpass
\\ No newline at end of file
diff --git a/notes.txt b/notes.txt
new file mode 100644
index 0000000..5626abf
--- /dev/null
+++ b/notes.txt
@@ -0,0 +1,2 @@
+one\ttab
+two
diff --git a/logo.png b/logo.png
index 0a1b2c3..4d5e6f7 100644
Binary files a/logo.png and b/logo.png differ
""".replace("\\x1b", "\x1b")
CHANGES = Changes(
    "checkout-v2", START, "taskspace/checkout-v2", TIP, TIP, "taskspace/checkout-v2", 2,
    (Commit(TIP, "Round totals half-up [bold]not markup[/]"),
     Commit("5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2", "Add a failing test for rounding\x1b[2J")),
    (FileChange("README.md", "modified", 2, 1), FileChange("src/cart.py", "modified", 1, 1),
     FileChange("notes.txt", "added", 2, 0), FileChange("logo.png", "modified", None, None)),
    (" M src/cart.py", "?? notes.txt"),
    PATCH, True)

# checkout-v2's agent asks for the person; fix-login-2's printed nothing for ten minutes.
ASKING = view(AgentStatus("running", since=1000.0), True, 1500.0,
              [Signal(1200.0, "progress", "running the tests"), Signal(1400.0, "attention", "rounding: half-up or bankers'?")],
              0.0, 1600.0, AgentSpec(("claude", "--continue")))
IDLE = view(AgentStatus("running", since=1000.0), True, 1000.0, [Signal(1100.0, "progress", "reading the login code")],
            0.0, 1700.0, AgentSpec(("claude",)))

FIXED = Snapshot(time=0.0, taskspaces=(
    TaskspaceStatus("checkout-v2", Health(HealthState.HEALTHY), "web-shop", "minimal", 37919, 39517, 12.5,
                    180 * 2**20, 2**30, 500, None, containers("checkout-v2"),
                    StorageUse("checkout-v2", 52 * 2**20, 2 * 2**30, {"project": 52 * 2**20}, enforced=True),
                    security="isolated", start=START, branch="taskspace/checkout-v2", agent=ASKING),
    TaskspaceStatus("fix-login-2", Health(HealthState.DEGRADED, "dev exited (exit code 137)"), "web-shop",
                    "default", 34335, 41281, 3.0, 95 * 2**20, 4 * 2**30, 2000, None,
                    containers("fix-login-2", "exited"), security="open", agent=IDLE),
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
