"""The dashboard driven by Pilot against the real isolated engine."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from textual.widgets import Button, DataTable, Input, RichLog

from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.screens.help import HelpScreen
from tests.engine.conftest import inventory
from tests.engine.test_lifecycle import create, discard
from tests.engine.test_resources import felt
from tests.helpers import run_cli, wait_until

pytestmark = pytest.mark.engine


async def until(pilot, predicate, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def rows(app) -> dict[str, list[str]]:
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    table = home.query_one("#taskspaces", DataTable)
    return {_name(str(key.value)): [str(c) for c in table.get_row(key)] for key in table.rows}


def cells(app) -> dict[str, dict[str, str]]:
    """The list's rows by id, each cell by its column's header (the columns shown change with the width)."""
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    headers = [str(c.label) for c in home.query_one("#taskspaces", DataTable).columns.values()]
    return {taskspace: dict(zip(headers, row)) for taskspace, row in rows(app).items()}


def _name(key: str) -> str:
    """A row key is HOST/ID (gone:HOST/ID for drift): the id, with gone: kept."""
    gone = key.startswith("gone:")
    return ("gone:" if gone else "") + key.removeprefix("gone:").split("/", 1)[1]


def select(app, taskspace: str) -> None:
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    table = home.query_one("#taskspaces", DataTable)
    table.move_cursor(row=[_name(str(k.value)) for k in table.rows].index(taskspace))


@pytest.fixture(scope="module")
def shown(ctx, lifecycle, repo):
    create(ctx, "ui-one", repo)
    yield "ui-one"
    discard(lifecycle, "ui-one")


async def test_list_logs_adjust_and_responsiveness(isolated, ctx, shown):
    app = SymposiumApp(isolated.uri, interval=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        # The list shows the taskspace with a CPU figure from the poller (at 120 columns: ID,
        # PROJECT, HEALTH, TIER, NET, CPU...; the ports went for CHANGES).
        row = await until(pilot, lambda: (r := cells(app).get(shown)) and r["CPU"].endswith("%") and r, 30,
                          "a CPU figure")
        assert "healthy" in row["HEALTH"] and row["PROJECT"] == "demo-project" and row["TIER"] == "default"
        # `l` shows a line the dev container printed, then follows new output.
        isolated.cli("exec", f"taskspace-{shown}-dev", "sh", "-c", "echo hello-from-dev > /proc/1/fd/1")
        select(app, shown)
        await pilot.press("l")
        log = await until(pilot, lambda: app.screen.query("#log") and app.screen.query_one("#log", RichLog))
        await until(pilot, lambda: any("hello-from-dev" in line for line in app.screen.lines), 20, "the dev line")
        isolated.cli("exec", f"taskspace-{shown}-dev", "sh", "-c", "echo followed-line > /proc/1/fd/1")
        await until(pilot, lambda: any("followed-line" in line for line in app.screen.lines), 20, "a followed line")
        assert log.lines
        await pilot.press("escape")
        # `a` changes a limit that the container then feels.
        select(app, shown)
        await pilot.press("a")
        await until(pilot, lambda: app.screen.query("#memory"))
        memory = app.screen.query_one("#memory", Input)
        memory.value = "1280Mi"
        await pilot.pause(0.2)
        assert "memory 4Gi -> 1.25Gi" in str(app.screen.query_one("#change").render())
        app.screen.query_one("#apply", Button).press()
        await until(pilot, lambda: not app.screen.query("#memory"), 30, "the adjust dialog to close")
        assert felt(isolated, f"taskspace-{shown}-dev")[0] == 1280 * 2**20
        # A deliberately slow engine call: the app keeps answering keys while it runs.
        lifecycle = app.services.lifecycle
        original = lifecycle.restart
        started = threading.Event()

        def slow_restart(taskspace):
            started.set()
            time.sleep(4)
            return original(taskspace)
        lifecycle.restart = slow_restart
        select(app, shown)
        await pilot.press("r")
        await until(pilot, started.is_set, 5, "the slow call to start")
        began = time.monotonic()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), 2, "the keys dialog")
        assert time.monotonic() - began < 2 and not any(w.is_finished for w in app.workers
                                                        if w.group == "operations")
        await pilot.press("escape", "q")


async def test_n_creates_through_the_form(isolated, ctx, lifecycle, repo):
    app = SymposiumApp(isolated.uri, interval=0.5)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.services is not None, 20, "the connection")
            await pilot.press("n")
            await until(pilot, lambda: app.screen.query("#repo"))
            app.screen.query_one("#id", Input).value = "ui-formed"
            app.screen.query_one("#repo", Input).value = str(repo)
            await pilot.pause(0.1)
            assert str(app.screen.query_one("#create-error").render()).strip() == ""
            app.screen.query_one("#create", Button).press()
            await until(pilot, lambda: "ui-formed" in rows(app), 60, "the new row")
            # The form closes when the create has finished (the row shows up while it still runs).
            await until(pilot, lambda: not app.screen.query("#repo"), 60, "the create to finish")
            assert "taskspace-ui-formed" in inventory(isolated)["pods"]
            await pilot.press("q")
    finally:
        discard(lifecycle, "ui-formed")


async def test_C_previews_and_then_removes_a_stopped_taskspace(isolated, ctx, lifecycle, repo):
    create(ctx, "ui-old", repo)
    try:
        lifecycle.stop("ui-old")
        ctx.registry.put("ui-old", {"last_activity": (datetime.now(timezone.utc) - timedelta(days=9)).isoformat()})
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: "ui-old" in rows(app), 30, "the list")
            def of_it() -> dict[str, list[str]]:  # the poller's own probe containers come and go
                return {kind: [n for n in names if "ui-old" in n] for kind, names in inventory(isolated).items()}
            before = of_it()
            assert before["pods"] and before["volumes"]
            await pilot.press("C")
            table = await until(pilot, lambda: app.screen.query("#plan") and app.screen.query_one("#plan", DataTable))
            await until(pilot, lambda: table.row_count >= 1, 30, "the plan")
            assert "ui-old" in [str(k.value) for k in table.rows]
            assert of_it() == before  # the preview deleted nothing
            app.screen.query_one("#apply", Button).press()
            await pilot.pause(0.2)
            await pilot.press("y")
            await until(pilot, lambda: "taskspace-ui-old" not in inventory(isolated)["pods"], 60, "the removal")
            assert "taskspace-ui-old-agent-state" in inventory(isolated)["volumes"]
            await until(pilot, lambda: "removed" in str(app.screen.query_one("#cleanup-summary").render()), 10)
            await pilot.press("escape", "q")
    finally:
        discard(lifecycle, "ui-old")


async def test_w_changes_the_security_level_after_a_confirmation(isolated, ctx, shown):
    from textual.widgets import Select

    from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

    pod_id = lambda: isolated.cli("pod", "inspect", f"taskspace-{shown}", "--format", "{{.Id}}").stdout  # noqa: E731
    before = pod_id()
    app = SymposiumApp(isolated.uri, interval=0.5)
    try:
        async with app.run_test(size=(150, 40)) as pilot:
            await until(pilot, lambda: (r := cells(app).get(shown)) and r["NET"] == "open", 30, "the list")
            for answer in ("n", "y"):
                select(app, shown)
                await pilot.press("w")
                level = await until(pilot, lambda: app.screen.query("#level") and app.screen.query_one("#level", Select))
                assert app.screen.query_one("#change", Button).disabled  # nothing to change yet
                level.value = "isolated"
                await pilot.pause(0.2)
                assert "no connections out" in str(app.screen.query_one("#meaning").render())
                app.screen.query_one("#change", Button).press()
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5, "the confirmation")
                assert "running processes end" in str(app.screen.query_one("#question").render())
                await pilot.press(answer)
                if answer == "n":
                    await pilot.pause(0.5)
                    assert pod_id() == before  # said no: nothing was touched
            await until(pilot, lambda: cells(app).get(shown, {}).get("NET") == "isol", 90, "the new level in the list")
            # The list shows the new pod's level as soon as the pod exists; the change ends (and
            # lets go of the taskspace's lock) once SSH answers in both containers.
            await until(pilot, lambda: not ctx.is_busy(shown), 90, "the change to end")
            assert pod_id() != before
            labels = isolated.cli("pod", "inspect", f"taskspace-{shown}", "--format", "{{.Labels}}").stdout
            assert "io.symposium.security:isolated" in labels
            await pilot.press("q")
    finally:
        result = run_cli("--url", isolated.uri, "security", shown, "open")
        assert result.returncode == 0, result.stderr


async def test_read_only_mode_hides_every_change(isolated, shown):
    app = SymposiumApp(isolated.uri, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: shown in rows(app), 30, "the list")
        names = [name for name, _, _ in app.palette_actions()]
        assert "Create taskspace" not in names and "Remove taskspace" not in names and "Logs" in names
        select(app, shown)
        await pilot.press("d", "x", "n")
        await pilot.pause(0.3)
        assert app.screen.__class__.__name__ == "HomeScreen"
        assert "taskspace-ui-one" in inventory(isolated)["pods"]
        await pilot.press("q")


def keyed_rows(app) -> dict[str, list[str]]:
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    table = home.query_one("#taskspaces", DataTable)
    return {str(key.value): [str(c) for c in table.get_row(key)] for key in table.rows}


async def test_two_hosts_each_polled_on_its_own_worker(isolated, remote_host, shown, repo, monkeypatch):
    """local (the isolated engine) and box2 (a second engine behind a real sshd): one list with a
    HOST column, a host switcher, and box2 going away stalls nothing of local."""
    from symposium_tui.core.paths import app_paths
    from symposium_tui.ui.screens.hosts import HostsScreen

    monkeypatch.setenv("CONTAINER_HOST", isolated.uri)
    with remote_host.configured(app_paths().config_file):
        made = run_cli("create", "far-ui", "--repo", str(repo), "--connection", "box2")
        assert made.returncode == 0, made.stderr
        try:
            app = SymposiumApp(interval=0.5)
            assert list(app.hosts) == ["local", "box2"] and app.view is None
            async with app.run_test(size=(150, 40)) as pilot:
                found = await until(pilot, lambda: (r := keyed_rows(app)) and f"local/{shown}" in r
                                    and "box2/far-ui" in r and r, 60, "rows of both hosts")
                assert found["box2/far-ui"][:2] == ["box2", "far-ui"]
                assert found[f"local/{shown}"][:2] == ["local", shown]
                await until(pilot, lambda: "healthy" in keyed_rows(app)["box2/far-ui"][3], 30, "box2 healthy")
                # The host switcher: box2 alone, then every host again.
                await pilot.press("H")
                await until(pilot, lambda: isinstance(app.screen, HostsScreen), 5, "the host switcher")
                await pilot.press("down", "down", "enter")
                await until(pilot, lambda: list(keyed_rows(app)) == ["box2/far-ui"], 10, "box2's rows only")
                assert app.view == "box2" and app.focus_host() == "box2"
                await pilot.press("H")
                await until(pilot, lambda: isinstance(app.screen, HostsScreen), 5, "the host switcher")
                await pilot.press("home", "enter")
                await until(pilot, lambda: len(keyed_rows(app)) >= 2, 10, "all rows again")
                # box2's machine goes away: only box2 shows unreachable; local keeps its ticks.
                remote_host.sshd.stop()
                try:
                    await until(pilot, lambda: not app.hosts["box2"].ok, 30, "box2 unreachable")
                    assert "box2: unreachable" in app.engine_text and app.hosts["local"].ok
                    assert keyed_rows(app)["box2/far-ui"][3] == "host down"
                    ticked = app.hosts["local"].answered_at
                    await until(pilot, lambda: app.hosts["local"].answered_at > ticked + 1.0, 10,
                                "local's poller to go on ticking")
                    assert "healthy" in keyed_rows(app)[f"local/{shown}"][3]
                finally:
                    remote_host.sshd.start()
                await until(pilot, lambda: app.hosts["box2"].ok, 30, "box2 back")
                await until(pilot, lambda: "healthy" in keyed_rows(app)["box2/far-ui"][3], 30,
                            "box2's row healthy again")
                # box2's engine hangs (its process stopped): box2 shows as slow, local ticks on.
                service = remote_host.iso.service._proc.pid
                os.kill(service, signal.SIGSTOP)
                try:
                    await until(pilot, lambda: "box2: slow: no answer for" in app.engine_text, 30, "box2 slow")
                    ticked = app.hosts["local"].answered_at
                    await until(pilot, lambda: app.hosts["local"].answered_at > ticked + 1.0, 10,
                                "local's poller to go on ticking")
                finally:
                    os.kill(service, signal.SIGCONT)
                await until(pilot, lambda: "box2: ok" in app.engine_text, 40, "box2 answering again")
                await pilot.press("q")
        finally:
            run_cli("rm", "far-ui", "--connection", "box2", "--force", "--purge-state")


async def test_a_crash_loop_is_given_up_and_the_dashboard_says_why(isolated, ctx, lifecycle, repo):
    from textual.widgets import Static

    from symposium_tui.core.restarts import RestartPolicy

    create(ctx, "ui-loop", repo)
    try:
        # Break sshd's configuration: from now on the dev container exits as soon as it starts.
        isolated.cli("exec", "taskspace-ui-loop-dev", "sh", "-c",
                     "echo 'NoSuchOption yes' >> /etc/ssh/sshd_config.d/00-symposium.conf")
        fast = RestartPolicy(base_delay=0.3, factor=2.0, max_delay=5.0, max_attempts=3, window=120.0)
        app = SymposiumApp(isolated.uri, interval=0.5, restart=fast)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: "healthy" in rows(app).get("ui-loop", [""] * 3)[2], 30, "ui-loop healthy")
            isolated.cli("kill", "taskspace-ui-loop-dev")
            select(app, "ui-loop")

            def said() -> str:
                select(app, "ui-loop")
                return str(app.screen.query_one("#selected", Static).render())
            await until(pilot, lambda: "auto-restart gave up after 3 restarts" in said(), 40, "the reason")
            assert rows(app)["ui-loop"][2].strip() in ("down", "degraded")
            await pilot.press("q")
    finally:
        discard(lifecycle, "ui-loop")


async def test_an_agent_asking_for_attention_marks_its_row_notifies_and_is_seen_with_a(isolated, ctx, shown):
    """The agent (here the shell its session holds: no agent configured) signals attention: within a
    tick the row is first and marked, a notification and the bell come; A marks it seen (#20)."""
    app = SymposiumApp(isolated.uri, interval=0.5)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: shown in rows(app), 30, "the taskspace")
        ctx.backend.send_to_agent(shown, "symposium-signal attention 'look at the login form'")
        row = await until(pilot, lambda: (r := cells(app).get(shown)) and r["AGENT"].startswith("!") and r, 20,
                          "the row to be marked")
        assert row["AGENT"] == "! attention: look at the login form"
        assert next(iter(rows(app))) == shown  # listed first
        assert any("ui-one: the agent needs you: look at the login form" in n.message for n in app._notifications)
        assert bells
        select(app, shown)
        await pilot.press("A")
        await until(pilot, lambda: not cells(app)[shown]["AGENT"].startswith("!"), 20, "the mark to go")
        assert any("marked as seen" in n.message for n in app._notifications)


async def test_three_marked_rows_are_stopped_together(isolated, ctx, lifecycle, repo):
    from concurrent.futures import ThreadPoolExecutor

    from symposium_tui.ui.screens.confirm import RemoveScreen
    from symposium_tui.ui.screens.confirm_plan import ConfirmScreen

    ids = ["ui-mark-a", "ui-mark-b", "ui-mark-c"]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda name: create(ctx, name, repo), ids))
    try:
        made = isolated.cli("exec", "--user", "1000", "taskspace-ui-mark-a-dev", "sh", "-c", "echo x > /workspace/notes.txt")
        assert made.returncode == 0, made.stderr
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: set(ids) <= set(rows(app)), 30, "the three rows")
            home = next(s for s in app.screen_stack if s.__class__.__name__ == "HomeScreen")
            for taskspace in ids:
                select(app, taskspace)
                await pilot.press("space")
                await until(pilot, lambda: taskspace in {t for _, t in home.marked_rows()}, 10, f"{taskspace} marked")
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 15, "the confirmation")
            assert all(t in app.screen.question for t in ids)
            await pilot.press("y")
            statuses = await until(pilot, lambda: (s := {t.id: t.status for t in lifecycle.list().taskspaces})
                                   and all(s.get(t) == "stopped" for t in ids) and s, 60, "all three stopped")
            assert statuses.get("ui-one", "running") != "stopped"  # an unmarked row is left as it was

            # two marked and removed: the dialog lists each one's unsaved work, and without the
            # box the one with unsaved work stays
            await until(pilot, lambda: not home.marked_rows(), 10, "the marks cleared")
            for taskspace in ("ui-mark-a", "ui-mark-b"):
                select(app, taskspace)
                await pilot.press("space")
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, RemoveScreen), 15, "the remove dialog")
            plan = await until(pilot, lambda: "ui-mark-b" in (t := str(app.screen.query_one("#remove-plan").render()))
                               and "unsaved work" in t and t, 60, "each one's unsaved work")
            assert "ui-mark-a: unsaved work: 1 file changed (?? notes.txt)" in plan, plan
            assert "Remove these 2 taskspaces?" in str(app.screen.query_one(".dialog-title").render())
            app.screen.query_one("#remove", Button).press()
            left = await until(pilot, lambda: (t := {t.id for t in lifecycle.list().taskspaces})
                               and "ui-mark-b" not in t and t, 60, "ui-mark-b removed")
            assert {"ui-mark-a", "ui-mark-c"} <= left  # the one with unsaved work, and the unmarked one
            await until(pilot, lambda: any("kept ui-mark-a (unsaved work)" in n.message
                                           for n in app._notifications), 10, "the outcome")
    finally:
        for name in ids:
            discard(lifecycle, name)


async def test_p_forwards_a_dev_server_while_the_dashboard_runs(isolated, ctx, lifecycle, repo):
    import socket
    import urllib.request

    from symposium_tui.ui.screens.forward import ForwardScreen

    create(ctx, "ui-fwd", repo, project_type="node+python")  # python3 for its http.server
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        local = free.getsockname()[1]

    def page() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None
    try:
        started = run_cli("--url", isolated.uri, "exec", "ui-fwd", "--", "sh", "-c",
                          "nohup python3 -m http.server 8766 --bind 127.0.0.1 >/dev/null 2>&1 &")
        assert started.returncode == 0, started.stderr
        wait_until(lambda: "8766" in run_cli("--url", isolated.uri, "ports", "ui-fwd").stdout, 60,
                   "the server to listen")
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: "ui-fwd" in rows(app), 30, "the row")
            select(app, "ui-fwd")
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ForwardScreen), 10, "the forward dialog")
            await until(pilot, lambda: "reading" not in str(app.screen.query_one("#listening").render()), 30,
                        "what listens inside")
            assert app.screen.query_one("#port", Input).value == "8766"  # the server's port, offered
            assert "listening inside: 8766 (127.0.0.1)" in str(app.screen.query_one("#listening").render())
            app.screen.query_one("#local", Input).value = str(local)
            app.screen.query_one("#forward", Button).press()
            body = await until(pilot, page, 30, "the forwarded port to answer")
            assert "README.md" in body
            await until(pilot, lambda: app.forwards.all(), 10, "the forward kept")  # answers just before
            assert [f.local for f in app.forwards.of("local", "ui-fwd")] == [local]
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ForwardScreen), 10, "the dialog again")
            assert f"127.0.0.1:{local} → ui-fwd:8766" in str(app.screen.query_one("#forwarding").render())
            app.screen.query_one("#stop", Button).press()
            await until(pilot, lambda: page() is None and not app.forwards.all(), 30, "the forward to end")
            # one kept until quit ends with the dashboard
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ForwardScreen), 10, "the dialog a third time")
            app.screen.query_one("#local", Input).value = str(local)
            app.screen.query_one("#port", Input).value = "8766"
            app.screen.query_one("#forward", Button).press()
            await until(pilot, lambda: page() and app.forwards.all(), 30, "the port forwarded again")
            kept = app.forwards.all()
        assert kept and all(f.proc.poll() is not None for f in kept)  # quitting ended its ssh
        assert page() is None
    finally:
        discard(lifecycle, "ui-fwd")


async def test_c_copies_files_out_and_in(isolated, ctx, lifecycle, repo, tmp_path):
    from textual.widgets import Select

    from symposium_tui.ui.screens.copy import CopyScreen

    create(ctx, "ui-copy", repo)
    try:
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: "ui-copy" in rows(app), 30, "the row")
            select(app, "ui-copy")
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, CopyScreen), 10, "the copy dialog")
            app.screen.query_one("#inside", Input).value = "README.md"
            app.screen.query_one("#here", Input).value = str(tmp_path)
            await pilot.press("enter")
            await until(pilot, lambda: (tmp_path / "README.md").exists(), 30, "the file copied out")
            assert (tmp_path / "README.md").read_text() == "hello\n"
            (tmp_path / "in.txt").write_text("from the dashboard\n")
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, CopyScreen), 10, "the copy dialog again")
            app.screen.query_one("#way", Select).value = "in"
            app.screen.query_one("#inside", Input).value = "notes/"  # no such folder: refused, said
            app.screen.query_one("#here", Input).value = str(tmp_path / "in.txt")
            app.screen.query_one("#copy", Button).press()
            await until(pilot, lambda: any("copy failed" in n.message and "no such folder" in n.message
                                           for n in app._notifications), 30, "the refusal")
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, CopyScreen), 10, "the copy dialog a third time")
            app.screen.query_one("#way", Select).value = "in"
            app.screen.query_one("#inside", Input).value = "."
            app.screen.query_one("#here", Input).value = str(tmp_path / "in.txt")
            app.screen.query_one("#copy", Button).press()
            await until(pilot, lambda: any("copied 1 file" in n.message and "ui-copy:/workspace/in.txt" in n.message
                                           for n in app._notifications), 30, "the copy in")
        done = isolated.cli("exec", "taskspace-ui-copy-dev", "cat", "/workspace/in.txt")
        assert done.stdout == "from the dashboard\n"
    finally:
        discard(lifecycle, "ui-copy")


async def test_the_dashboard_stops_an_idle_taskspace_and_says_so(isolated, ctx, lifecycle, tmp_path, monkeypatch):
    from tests.engine.conftest import make_repo

    config = tmp_path / "config"
    (config / "symposium-tui").mkdir(parents=True)
    (config / "symposium-tui" / "config.yaml").write_text(
        "auto_stop:\n  projects:\n    uiidle: {after: 15s}\n")  # only this test's project
    create(ctx, "ui-idle", make_repo(tmp_path / "uiidle"))
    try:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: "ui-idle" in rows(app), 30, "the row")
            select(app, "ui-idle")
            await pilot.press("enter")
            await until(pilot, lambda: "idle stop in" in str(app.screen.query_one("#summary").render()), 20,
                        "the details to say when it stops")
            await until(pilot, lambda: any("ui-idle stopped: idle for" in n.message for n in app._notifications),
                        60, "the dashboard's notice")
            await pilot.press("escape")
            await until(pilot, lambda: cells(app).get("ui-idle", {}).get("HEALTH") == "stopped", 20,
                        "the row stopped")
        found = next(t for t in lifecycle.list().taskspaces if t.id == "ui-idle")
        assert found.status == "stopped" and found.reason.startswith("idle for")
    finally:
        discard(lifecycle, "ui-idle")
