"""Deterministic pictures of the dashboard: fixed size, no engine, no clock."""

from symposium_tui.ui.app import SymposiumApp


def test_empty_dashboard(snap_compare):
    assert snap_compare(SymposiumApp(connect=False), terminal_size=(80, 24))


def test_keys_dialog(snap_compare):
    assert snap_compare(SymposiumApp(connect=False), press=["question_mark"], terminal_size=(80, 24))
