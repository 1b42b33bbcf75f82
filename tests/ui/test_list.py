"""The taskspace list: SSH into a stopped taskspace, columns that fit the width, a cursor that
stays on its row."""

from __future__ import annotations

from dataclasses import replace

from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
from symposium_tui.ui.screens.home import HomeScreen
from tests.ui.data import FIXED, cursor_key, fixed_app, home_table, row_keys, select, show, text_of
from tests.ui.fakes import FakeLifecycle, connect_fake


# -- SSH -----------------------------------------------------------------------------------------
async def test_ssh_into_a_stopped_taskspace_says_so_and_offers_to_start_it(monkeypatch):
    ran: list = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: ran.append(a))
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        lifecycle = FakeLifecycle()
        connect_fake(app, lifecycle=lifecycle)
        await show(pilot)
        select(app, "ledger-sync")
        await pilot.press("s")
        await pilot.pause()
        assert ran == []  # the dashboard was not suspended for an ssh that cannot connect
        assert any("ledger-sync is stopped" in n.message for n in app._notifications)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Start ledger-sync" in text_of(app.screen.query_one("#question"))
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert lifecycle.driven == [("start", "ledger-sync")]


async def test_ssh_into_an_exited_container_says_which_one(monkeypatch):
    ran: list = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: ran.append(a))
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        connect_fake(app)
        await show(pilot)
        select(app, "fix-login-2")  # its dev container exited; the agent runs
        await pilot.press("s")
        await pilot.pause()
        assert ran == [] and isinstance(app.screen, ConfirmScreen)
        assert any("dev container" in n.message for n in app._notifications)
        await pilot.press("n")
        select(app, "old-spike")  # in the registry, gone from the engine
        await pilot.press("s")
        await pilot.pause()
        assert ran == [] and not isinstance(app.screen, ConfirmScreen)
        assert any("old-spike is gone from the engine" in n.message for n in app._notifications)


# -- columns -------------------------------------------------------------------------------------
async def test_the_list_fits_80_columns_dropping_the_least_useful_first():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        table = home_table(app)
        shown = [str(c.value) for c in table.columns]
        assert shown == ["ID", "HEALTH", "AGENT", "CPU", "MEMORY", "ACTIVITY"]
        assert not table.show_horizontal_scrollbar and table.virtual_size.width <= 80
    wide = fixed_app()
    async with wide.run_test(size=(170, 40)) as pilot:
        await show(pilot)
        assert len(home_table(wide).columns) == 13  # all of them when they fit
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        shown = [str(c.value) for c in home_table(wide).columns]  # the ports go before the changes
        assert shown == ["ID", "PROJECT", "HEALTH", "AGENT", "TIER", "NET", "CPU", "MEMORY", "CPU 20s", "CHANGES",
                         "ACTIVITY"]
        await pilot.resize_terminal(100, 24)
        await pilot.pause()
        shown = [str(c.value) for c in home_table(wide).columns]
        assert shown == ["ID", "HEALTH", "AGENT", "CPU", "MEMORY", "CPU 20s", "ACTIVITY"]


async def test_dialogs_cover_the_whole_width_at_80_columns():
    """A dialog two columns narrower than the terminal left the list's characters showing past
    its right edge."""
    from symposium_tui.ui.screens.security import SecurityScreen

    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        await app.push_screen(SecurityScreen("checkout-v2", "isolated"))
        await pilot.pause()
        dialog = app.screen.query_one("#security-dialog")
        assert dialog.region.x == 0 and dialog.region.right == 80


# -- the cursor ----------------------------------------------------------------------------------
GONE_FOR_NOW = replace(FIXED, taskspaces=tuple(t for t in FIXED.taskspaces if t.id != "fix-login-2"))


async def test_the_cursor_moves_to_the_neighbour_when_its_row_goes():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        select(app, "fix-login-2")
        await pilot.pause()
        await show(pilot, GONE_FOR_NOW)
        assert cursor_key(app) == "local/ledger-sync"  # the row that took its place
        # Back a tick later (the engine listed it late): so is the cursor, the person left it be.
        await show(pilot)
        assert cursor_key(app) == "local/fix-login-2"
        # Once the person moves the cursor, it is theirs.
        await show(pilot, GONE_FOR_NOW)
        await pilot.press("k")
        await show(pilot)
        assert cursor_key(app) == "local/checkout-v2"


async def test_the_cursor_stays_on_a_taskspace_whose_pod_is_made_again():
    """A security change makes the pod again: for a tick the taskspace is only in the registry
    (a gone row at the end), then back in its place."""
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        select(app, "fix-login-2")
        await pilot.pause()
        remaking = replace(GONE_FOR_NOW, registry_only=("fix-login-2", "old-spike"))
        await show(pilot, remaking)
        assert cursor_key(app) == "gone:local/fix-login-2"
        await show(pilot)
        assert cursor_key(app) == "local/fix-login-2"
        assert row_keys(app)[1] == "local/fix-login-2" and isinstance(app.screen, HomeScreen)


async def test_a_column_added_to_the_one_table_is_in_the_list_and_in_ls(monkeypatch):
    """core.columns is the one definition: an entry added there is a column of the dashboard's list
    (with its cells) and of `ls`, and nothing else has to change."""
    from types import SimpleNamespace

    from symposium_tui.cli.taskspaces import _ls_rows, _ls_table
    from symposium_tui.core import columns
    from symposium_tui.core.taskspace import Taskspace

    added = columns.Column("SHORT", lambda f: f.id[:3].upper(), ls=columns.Place(15),
                           dashboard=columns.Place(15, drop=5))
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, added))
    monkeypatch.delenv("COLUMNS", raising=False)
    ls = _ls_table(_ls_rows(SimpleNamespace(taskspaces=[Taskspace("checkout-v2", "running")]), {}))
    assert [line.split()[:2] for line in ls.splitlines()] == [["ID", "SHORT"], ["checkout-v2", "CHE"]]
    app = fixed_app()
    async with app.run_test(size=(180, 40)) as pilot:
        await show(pilot)
        table = home_table(app)
        assert [str(c.value) for c in table.columns][:3] == ["ID", "SHORT", "PROJECT"]
        assert [str(cell) for cell in table.get_row("local/fix-login-2")][:3] == ["fix-login-2", "FIX", "web-shop"]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "SHORT" not in [str(c.value) for c in table.columns]  # its drop rank: the first to go


# -- what the poller's thread hands over --------------------------------------------------------
class PollerOfItsOwnThread:
    """Its stats history and restart log are its thread's: the UI must never read them."""

    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1

    def stop(self) -> None:
        pass

    def restarts_of(self, taskspace: str) -> tuple:
        raise AssertionError("the UI read the poller's restart log")

    @property
    def history(self):
        raise AssertionError("the UI read the poller's stats history")


async def test_the_sparkline_and_the_restarts_come_in_the_snapshot_message_not_from_the_poller():
    import asyncio
    import threading
    from types import SimpleNamespace

    from symposium_tui.core.restarts import RestartRecord
    from symposium_tui.core.stats import StatsSample
    from symposium_tui.ui.messages import SnapshotTaken

    def samples(cpu: float) -> list[StatsSample]:
        return [StatsSample(float(t), cpu, cpu / 100, 2**20, 2**30, 1, 0) for t in range(12)]
    record = RestartRecord(0.0, "checkout-v2", "taskspace-checkout-v2-dev", "dev exited (exit code 1)", "restarted")
    read_on: list[str] = []
    poller = SimpleNamespace(  # as the host thread's poller answers, just after its tick
        history=SimpleNamespace(samples=lambda name: read_on.append(threading.current_thread().name)
                                or samples(100.0 if name.endswith("-dev") else 0.0)),
        restarts_of=lambda taskspace: (record,) if taskspace == "checkout-v2" else ())
    message = await asyncio.to_thread(SnapshotTaken.read_from, poller, FIXED, "local")
    assert message.restarts == {"checkout-v2": (record,)} and len(message.stats) == 4
    assert read_on and "MainThread" not in read_on
    app = fixed_app()
    async with app.run_test(size=(120, 40)) as pilot:
        connect_fake(app).poller = PollerOfItsOwnThread()
        app.post_message(message)
        await pilot.pause()
        table = home_table(app)
        sparkline = [str(c.value) for c in table.columns].index("CPU 20s")
        assert str(table.get_row("local/checkout-v2")[sparkline]) == "█" * 10  # dev at 100 % of its quota
        select(app, "checkout-v2")
        await pilot.press("enter")
        await pilot.pause()
        restarts = text_of(app.screen.query_one("#restarts"))
        assert "dev exited (exit code 1) → restarted" in restarts
        assert "CPU 100%" in text_of(app.screen.query_one("#dev-title"))


# -- the agent -----------------------------------------------------------------------------------
async def test_t_attaches_to_the_agents_session_and_marks_what_it_asked_as_seen(monkeypatch):
    import contextlib

    ran: list = []
    monkeypatch.setattr("subprocess.run", lambda argv, **k: ran.append(argv))
    app = fixed_app()
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # the headless driver cannot suspend
    async with app.run_test(size=(80, 24)) as pilot:
        services = connect_fake(app)
        await show(pilot)
        assert row_keys(app)[0] == "local/checkout-v2"  # its agent asks for the person: first
        select(app, "checkout-v2")
        await pilot.press("t")
        await pilot.pause()
        assert ran and ran[0][:5] == ["ssh", "-F", "/nonexistent/ssh_config", "-t", "--"]
        assert ran[0][5] == "checkout-v2-agent" and "attach -t agent" in ran[0][6]
        assert services.ctx.registry.entries["checkout-v2"]["attention_seen"] == 1400.0
        select(app, "ledger-sync")  # stopped: nothing to attach to
        await pilot.press("t")
        await pilot.pause()
        assert len(ran) == 1 and any("ledger-sync is stopped" in n.message for n in app._notifications)


async def test_a_marks_what_the_agent_asked_as_seen_and_says_when_there_is_nothing():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        services = connect_fake(app)
        await show(pilot)
        select(app, "fix-login-2")
        await pilot.press("A")
        await pilot.pause()
        assert any("not asking for anything" in n.message for n in app._notifications)
        select(app, "checkout-v2")
        await pilot.press("A")
        await pilot.pause()
        assert services.ctx.registry.entries["checkout-v2"]["attention_seen"] == 1400.0
        assert any("checkout-v2: marked as seen" in n.message for n in app._notifications)


async def test_e_opens_a_shell_through_the_engine_in_dev_and_E_in_the_agent(monkeypatch):
    import contextlib

    app = fixed_app()
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # the headless driver cannot suspend
    async with app.run_test(size=(80, 24)) as pilot:
        services = connect_fake(app)
        ran: list = []
        services.ctx.backend.interactive = lambda *a: ran.append(a) or 0
        await show(pilot)
        select(app, "checkout-v2")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert [(member, command, user, workdir) for member, command, user, workdir, _ in ran] == [
            ("taskspace-checkout-v2-dev", ("/bin/bash", "-l"), "1000:1000", "/workspace"),
            ("taskspace-checkout-v2-agent", ("/bin/bash", "-l"), "1000:1000", "/workspace")]
        select(app, "ledger-sync")  # stopped: offered a start instead
        await pilot.press("e")
        await pilot.pause()
        assert len(ran) == 2 and any("ledger-sync is stopped" in n.message for n in app._notifications)


async def test_o_sorts_the_list_by_the_next_column_and_the_choice_is_kept():
    from symposium_tui.ui.preferences import load_preferences

    busy = FIXED.taskspaces[1]
    snapshot = replace(FIXED, taskspaces=(FIXED.taskspaces[0], replace(busy, cpu_percent=50.0), FIXED.taskspaces[2]))
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, snapshot)
        assert row_keys(app)[:3] == ["local/checkout-v2", "local/fix-login-2", "local/ledger-sync"]  # attention first
        orders = {}
        for _ in range(5):
            await pilot.press("o")
            await pilot.pause()
            orders[home_table(app).screen.sort] = [k for k in row_keys(app) if not k.startswith("gone:")]
        assert orders["cpu"] == ["local/fix-login-2", "local/checkout-v2", "local/ledger-sync"]
        assert orders["memory"] == ["local/checkout-v2", "local/fix-login-2", "local/ledger-sync"]
        assert orders["health"] == ["local/fix-login-2", "local/checkout-v2", "local/ledger-sync"]  # degraded first
        assert orders["id"] == ["local/checkout-v2", "local/fix-login-2", "local/ledger-sync"]
        assert any("sorted by cpu, highest first" in n.message for n in app._notifications)
        await show(pilot, snapshot)  # a new snapshot keeps the order
        assert home_table(app).screen.sort == "health" and load_preferences()["sort"] == "health"
    again = fixed_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await show(pilot, snapshot)
        assert [k for k in row_keys(again) if not k.startswith("gone:")] == orders["health"]


async def test_space_marks_rows_and_x_stops_all_marked_after_one_confirmation():
    lifecycle = FakeLifecycle()
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        connect_fake(app, lifecycle=lifecycle)
        await show(pilot)
        select(app, "checkout-v2")
        await pilot.press("space")  # marks it, the cursor goes to the next row
        await pilot.press("space")
        await pilot.press("space")
        await pilot.pause()
        home = home_table(app).screen
        assert [t for _, t in home.marked_rows()] == ["checkout-v2", "fix-login-2", "ledger-sync"]
        assert str(home_table(app).get_row("local/fix-login-2")[0]).startswith("✓ ")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Stop these 3 taskspaces?" in app.screen.question and "ledger-sync" in app.screen.question
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sorted(lifecycle.driven) == [("stop", "checkout-v2"), ("stop", "fix-login-2"), ("stop", "ledger-sync")]
        assert home.marked_rows() == []  # done: the marks go
        await pilot.press("space")
        await pilot.press("escape")  # clears marks
        await pilot.pause()
        assert home.marked_rows() == []
        await pilot.press("x")  # no marks: the selected row alone, as before
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(lifecycle.driven) == 4 and not isinstance(app.screen, ConfirmScreen)


async def test_the_palette_has_each_new_action_and_marks_a_row():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        connect_fake(app)
        await show(pilot)
        names = [name for name, _, _ in app.palette_actions()]
        for name in ("Forward a port", "Copy files", "Mark the row", "Sort the list", "Shell in dev (engine)"):
            assert name in names, name
        select(app, "checkout-v2")
        app.action_mark()
        await pilot.pause()
        assert [t for _, t in app.home_screen().marked_rows()] == ["checkout-v2"]
