"""D on the real isolated engine: a taskspace given a commit and an uncommitted edit over SSH; the
list's CHANGES cell fills in, its changes screen shows the commit and the patch, and f fetches its
branch into the repository it was made from, after the confirmation."""

from __future__ import annotations

import subprocess

import pytest
from textual.widgets import DataTable

from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.screens.changes import ChangesScreen
from symposium_tui.ui.screens.confirm_plan import ConfirmScreen
from tests.engine.test_lifecycle import create, discard, ssh
from tests.ui.test_dashboard_engine import rows, select, until

pytestmark = pytest.mark.engine

AGENT_WORK = ("echo 'a line from the agent' >> README.md && git add README.md && "
              "git -c user.email=agent@example.com -c user.name=agent commit -qm 'agent: say more' && "
              "echo 'not committed yet' >> src.txt")


def changes_cell(app, taskspace: str) -> str:
    from symposium_tui.ui.screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    headers = [str(c.value) for c in home.query_one("#taskspaces", DataTable).columns]
    row = rows(app).get(taskspace)
    return row[headers.index("CHANGES")] if row else ""


async def test_D_shows_a_commit_and_an_uncommitted_edit_and_f_fetches_the_branch(isolated, ctx, lifecycle, repo):
    create(ctx, "ui-changes", repo)
    try:
        done = ssh(ctx, "ui-changes-dev", f"cd /workspace && {AGENT_WORK}")
        assert done.returncode == 0, done.stderr
        app = SymposiumApp(isolated.uri, interval=0.5)
        async with app.run_test(size=(150, 40)) as pilot:
            cell = await until(pilot, lambda: (c := changes_cell(app, "ui-changes")) not in ("", "…") and c, 60,
                               "the CHANGES cell")
            assert cell == "+2 −0 · 1c"
            select(app, "ui-changes")
            await pilot.press("D")
            screen = await until(pilot, lambda: isinstance(app.screen, ChangesScreen) and app.screen, 5,
                                 "the changes screen")
            await until(pilot, lambda: screen.read is not None, 30, "the changes")
            lines = list(screen.query_one("#patch").lines)
            assert "+a line from the agent" in lines and "+not committed yet" in lines
            commits = screen.query_one("#commits", DataTable)
            assert [str(c) for c in commits.get_row_at(0)][1] == "agent: say more"
            assert "1 uncommitted" in str(screen.query_one("#changes-summary").render())
            # f: asked first, naming the repository and the branch; then the branch is there.
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5, "the confirmation")
            question = str(app.screen.query_one("#question").render())
            assert str(repo) in question and "taskspace/ui-changes" in question
            await pilot.press("y")
            await until(pilot, lambda: "fetched taskspace/ui-changes" in
                        str(screen.query_one("#changes-outcome").render()), 30, "the fetch")
            assert "1 uncommitted change(s) stay in the taskspace: src.txt" in \
                str(screen.query_one("#changes-outcome").render())
            subject = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "taskspace/ui-changes"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            assert subject == "agent: say more"
            await pilot.press("escape", "q")
    finally:
        subprocess.run(["git", "-C", str(repo), "branch", "-D", "taskspace/ui-changes"], capture_output=True)
        discard(lifecycle, "ui-changes")
