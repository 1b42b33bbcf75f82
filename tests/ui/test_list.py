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
        assert shown == ["ID", "HEALTH", "CPU", "MEMORY", "CPU 20s", "ACTIVITY"]
        assert not table.show_horizontal_scrollbar and table.virtual_size.width <= 80
    wide = fixed_app()
    async with wide.run_test(size=(120, 40)) as pilot:
        await show(pilot)
        assert len(home_table(wide).columns) == 11  # all of them when they fit
        await pilot.resize_terminal(90, 24)
        await pilot.pause()
        shown = [str(c.value) for c in home_table(wide).columns]
        assert shown == ["ID", "PROJECT", "HEALTH", "CPU", "MEMORY", "CPU 20s", "ACTIVITY"]


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
