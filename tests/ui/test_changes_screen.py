"""D, the changes screen, with fakes: what it shows (escaped, never markup), fetch's confirmation
naming the repository and the branch, its refusal and its outcome said in the screen, no fetch in
--read-only; and the list's CHANGES column, read again only for a taskspace that did something."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone

from textual.widgets import DataTable

from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.ui.screens.changes import ChangesScreen
from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
from symposium_tui.ui.screens.help import HelpScreen
from tests.ui.data import CHANGES, FIXED, fixed_app, home_table, show, text_of
from tests.ui.fakes import FakeChanges, connect_fake

REFUSAL = UsageError("taskspace/checkout-v2 in /home/dev/web-shop has 1 commit(s) the taskspace's branch lacks: "
                     "it was not moved", hint="merge them in the taskspace, fetch into another clone (--into), "
                     "or --force to move the branch anyway")


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def open_changes(app, pilot, changes: FakeChanges) -> ChangesScreen:
    connect_fake(app, changes=changes)
    await show(pilot)
    await pilot.press("D")
    await settle(app, pilot)
    assert isinstance(app.screen, ChangesScreen)
    return app.screen


def cells(table: DataTable) -> list[list[str]]:
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_D_shows_the_files_commits_and_patch_escaped_and_never_as_markup():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fake = FakeChanges({"checkout-v2": CHANGES})
        screen = await open_changes(app, pilot, fake)
        summary = text_of(screen.query_one("#changes-summary"))
        assert "branch taskspace/checkout-v2 from 1a2b3c4d5e6f" in summary
        assert "+5 −2 in 4 files · 2 commits · 2 uncommitted (*)" in summary and "the patch is cut" in summary
        files = cells(screen.query_one("#changed-files", DataTable))
        assert files[1] == ["+1", "−1", "modified *", "src/cart.py"] and files[3][:2] == ["bin", "bin"]
        commits = cells(screen.query_one("#commits", DataTable))
        assert commits == [["7c1e9a0b2d3f", "Round totals half-up [bold]not markup[/]"],
                           ["5e4d3c2b1a09", "Add a failing test for rounding\\x1b[2J"]]
        lines = list(screen.query_one("#patch").lines)
        assert "+See [red]docs/rounding.md[/] (not markup)." in lines
        assert "+   return round(subtotal, 2)  # was: floor\\x1b[31m" in lines  # the tab spread, ESC escaped
        assert not any("\x1b" in line or "\t" in line for line in lines)
        assert lines[-1].startswith("… the patch is cut")
        # enter on a file: the patch shows that file's part
        table = screen.query_one("#changed-files", DataTable)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        patch = screen.query_one("#patch")
        assert lines[int(patch.scroll_y)] == "diff --git a/src/cart.py b/src/cart.py"
        # r reads again; the list's CHANGES cell follows the screen's read
        await pilot.press("r")
        await settle(app, pilot)
        assert fake.reads.count(("checkout-v2", "patch")) == 2
        assert app.hosts["local"].changes.text("checkout-v2") == "+5 −2 · 2c"


async def test_f_asks_naming_the_repository_and_branch_and_says_a_refusal_in_the_screen():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fake = FakeChanges({"checkout-v2": CHANGES}, refusal=REFUSAL)
        await open_changes(app, pilot, fake)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text_of(app.screen.query_one("#question"))
        assert "Fetch the branch taskspace/checkout-v2 of checkout-v2 into /home/dev/web-shop?" in question
        assert "7c1e9a0b2d3f" in question and "2 uncommitted change(s) stay in the taskspace" in question
        await pilot.press("n")
        await settle(app, pilot)
        assert fake.fetched == [] and isinstance(app.screen, ChangesScreen)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert fake.fetched == ["checkout-v2"] and isinstance(app.screen, ChangesScreen)
        outcome = app.screen.query_one("#changes-outcome")
        said = text_of(outcome)
        assert outcome.display and outcome.has_class("-error")
        assert "fetch refused: taskspace/checkout-v2 in /home/dev/web-shop has 1 commit(s) the taskspace's " \
               "branch lacks: it was not moved" in said and "--force" in said


async def test_a_fetch_says_what_it_did_and_what_stayed_behind():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_changes(app, pilot, FakeChanges({"checkout-v2": CHANGES}))
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        outcome = app.screen.query_one("#changes-outcome")
        said = text_of(outcome)
        assert not outcome.has_class("-error")
        assert "fetched taskspace/checkout-v2 into /home/dev/web-shop at 7c1e9a0b2d3f (2 commit(s) since the start)" \
            in said
        assert "2 uncommitted change(s) stay in the taskspace: src/cart.py, notes.txt" in said


async def test_a_repository_that_is_not_on_this_machine_needs_into_and_asks_nothing():
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fake = FakeChanges({"checkout-v2": CHANGES}, repo="https://example.com/web-shop.git")
        await open_changes(app, pilot, fake)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen) and fake.fetched == []
        said = text_of(app.screen.query_one("#changes-outcome"))
        assert "https://example.com/web-shop.git" in said and "--into PATH" in said


async def test_read_only_opens_the_changes_without_fetch():
    app = fixed_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "D" in app.screen.active_bindings
        fake = FakeChanges({"checkout-v2": CHANGES})
        screen = await open_changes(app, pilot, fake)
        assert "f" not in screen.active_bindings and "r" in screen.active_bindings
        await pilot.press("f")
        await pilot.pause()
        assert app.screen is screen and fake.fetched == []
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "r" in keys and "f" not in keys


class Unreadable(FakeChanges):
    def read(self, taskspace, what="summary", *, inventory=None):
        self.reads.append((taskspace, what))
        raise SymposiumError(f"/workspace of {taskspace} is not a git repository, so its changes cannot be told")


async def test_a_read_that_fails_is_said_in_the_screen_and_in_the_column():
    app = fixed_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_changes(app, pilot, Unreadable())
        said = text_of(app.screen.query_one("#changes-summary"))
        assert "cannot read the changes of checkout-v2: /workspace of checkout-v2 is not a git repository" in said
        assert not app.screen.query_one("#patch").display
        await pilot.press("escape")
        await settle(app, pilot)
        column = [str(c.value) for c in home_table(app).columns].index("CHANGES")
        assert str(home_table(app).get_row_at(0)[column]) == "?"


def ago(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds, timezone.utc).isoformat(timespec="seconds")


async def test_the_changes_column_is_read_again_only_for_the_taskspace_that_did_something():
    app = fixed_app()
    async with app.run_test(size=(140, 40)) as pilot:
        fake = FakeChanges({"checkout-v2": CHANGES})
        connect_fake(app, changes=fake)
        app.hosts["local"].changes.spacing = 0  # no wait between two reads of one taskspace
        await show(pilot)
        await settle(app, pilot)
        # Each taskspace read once, one after the other; the cells say what was read.
        assert sorted(fake.reads) == [("checkout-v2", "summary"), ("fix-login-2", "summary"),
                                      ("ledger-sync", "summary")]
        column = [str(c.value) for c in home_table(app).columns].index("CHANGES")
        assert [str(home_table(app).get_row_at(i)[column]) for i in range(4)] == ["+5 −2 · 2c", "-", "-", "-"]
        # Ticks with nothing new read nothing.
        for _ in range(3):
            await show(pilot)
            await settle(app, pilot)
        assert len(fake.reads) == 3
        # Those reads were ten seconds ago; since, fix-login-2 did something: it alone is read again.
        watch = app.hosts["local"].changes
        watch.known = {t: replace(k, began=k.began - 10, ended=k.ended - 10) for t, k in watch.known.items()}
        moved = tuple(replace(t, last_activity=ago(2)) if t.id == "fix-login-2" else t for t in FIXED.taskspaces)
        fake.changes["fix-login-2"] = replace(CHANGES, taskspace="fix-login-2", commit_count=0, commits=())
        await show(pilot, replace(FIXED, taskspaces=moved))
        await settle(app, pilot)
        assert fake.reads[3:] == [("fix-login-2", "summary")]
        assert str(home_table(app).get_row_at(1)[column]) == "+5 −2"
        await show(pilot, replace(FIXED, taskspaces=moved))
        await settle(app, pilot)
        assert len(fake.reads) == 4  # the same activity again: no new read
