"""The dashboard shell, driven headless with Pilot against the real isolated engine."""

import pytest

from symposium_tui.ui.app import SymposiumApp
from symposium_tui.ui.screens.help import HelpScreen

pytestmark = pytest.mark.engine


async def _wait_for_status(app, pilot, timeout: float = 20.0) -> str:
    """The engine line once it says more than 'connecting' (the poller worker never completes)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        text = str(app.screen.query_one("#engine-status").render())
        if "connecting" not in text:
            return text
    raise AssertionError("the dashboard never reported the engine")


async def test_dashboard_connects_to_the_engine(isolated):
    app = SymposiumApp(isolated.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        status = await _wait_for_status(app, pilot)
        assert "podman 4." in status and isolated.uri in status
        assert not app.screen.query_one("#engine-status").has_class("-error")
        await pilot.press("q")
    app.close_engine()


async def test_dashboard_says_when_the_engine_is_unreachable(tmp_path):
    app = SymposiumApp(f"unix://{tmp_path}/gone.sock")
    async with app.run_test(size=(80, 24)) as pilot:
        status = await _wait_for_status(app, pilot)
        assert "engine unreachable" in status and "no such socket" in status
        assert app.screen.query_one("#engine-status").has_class("-error")
        assert app.is_running  # it keeps running, and retries
        app.workers.cancel_all()


async def test_question_mark_lists_keys_and_escape_closes(tmp_path):
    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("DataTable")
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "q" in keys and "?" in keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits():
    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_palette_offers_the_dashboard_actions():
    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        names = [name for name, _, _ in app.palette_actions()]
        assert "Show keys" in names
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"show keys")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_snapshot_with_notices_is_never_replaced_by_a_newer_one():
    """Snapshots of one host coalesce (only the newest is drawn), but one that carries notices
    (an interrupted create finished off, a corrupt registry moved aside) is handled all the same."""
    import time

    from symposium_tui.core.services.poller import Snapshot
    from symposium_tui.ui.messages import SnapshotTaken

    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        now = time.time()
        # Posted in one go: all three are queued before the app handles any.
        app.post_message(SnapshotTaken(Snapshot(time=now), host="local"))
        app.post_message(SnapshotTaken(Snapshot(time=now + 1, notices=("finished off create x",)), host="local"))
        app.post_message(SnapshotTaken(Snapshot(time=now + 2), host="local"))
        app.post_message(SnapshotTaken(Snapshot(time=now + 3), host="local"))
        await pilot.pause(0.3)
        assert [n.message for n in app._notifications] == ["finished off create x"]
        assert app.hosts["local"].snapshot.time == now + 3
        # Without notices, an older snapshot of the same host gives way to the newer one (Textual
        # asks the one in hand about the next queued); another host's never does.
        assert SnapshotTaken(Snapshot(time=now + 4), host="local").can_replace(
            SnapshotTaken(Snapshot(time=now + 5), host="local"))
        assert not SnapshotTaken(Snapshot(time=now + 4), host="local").can_replace(
            SnapshotTaken(Snapshot(time=now + 5), host="box2"))
        await pilot.press("q")


async def test_what_comes_from_the_engine_is_shown_as_text_never_as_markup():
    from dataclasses import replace

    from symposium_tui.core.health import Health, HealthState
    from tests.ui.data import FIXED, show, text_of

    odd = replace(FIXED.taskspaces[0], health=Health(HealthState.DEGRADED, "dev said [bold red]no[/] [link=x]"))
    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, replace(FIXED, taskspaces=(odd, *FIXED.taskspaces[1:])))
        assert "dev said [bold red]no[/] [link=x]" in text_of(app.screen.query_one("#selected"))
        app.notify("remove x failed: [b]bold?[/b]")
        await pilot.pause()
        assert not any(n.markup for n in app._notifications)
        await pilot.press("enter")
        await pilot.pause()
        assert "dev said [bold red]no[/] [link=x]" in text_of(app.screen.query_one("#summary"))


async def test_the_palette_has_one_keys_and_one_quit():
    app = SymposiumApp(connect=False)
    async with app.run_test(size=(80, 24)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" in titles and "Keys" not in titles  # Textual's side panel: ours is "Show keys"
        assert titles.count("Show keys") == 1 and titles.count("Quit") == 1
