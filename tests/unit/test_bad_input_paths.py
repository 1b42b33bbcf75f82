"""Hostile ids never reach a file path, an engine name or a command line (issue #11).

The functions that build names and paths from an id (ids.pod_name/container_name/volume_name,
LifecycleContext.taskspace_dir/taskspace_lock/remove_taskspace_files/...) are wrapped by spies; the
use cases a person's id enters through are then called with generated hostile ids against an engine
that records every call. Each must refuse with UsageError before any of them runs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.backends.podman.backend import PodmanBackend
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import is_valid_id
from symposium_tui.core.repos import parse_repo
from tests.unit.bad_input_support import (
    MANY,
    RecordingEngine,
    files_under,
    install_id_spies,
    invalid_ids_seen,
    private_context,
)

REPO = parse_repo("https://example.com/org/app.git")


def _entry_points(ctx):
    """Every use case that takes a taskspace id from a person (the CLI's and the dashboard's)."""
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.kube import KubeExport
    from symposium_tui.core.services.lifecycle import Lifecycle
    from symposium_tui.core.services.resources import Resources
    from symposium_tui.core.services.security import SecurityChange

    lifecycle = Lifecycle(ctx)
    return {
        "create": lambda t: Creator(ctx).create(CreateRequest(t, REPO, security="open")),
        "start": lifecycle.start, "stop": lifecycle.stop, "restart": lifecycle.restart,
        "remove": lambda t: lifecycle.remove(t, force=True),
        "remove --purge-state": lambda t: lifecycle.remove(t, purge_state=True),
        "require_pod": lifecycle.require_pod,
        "adjust": lambda t: Resources(ctx).adjust(t, memory="2Gi", cpu="1"),
        "security": lambda t: SecurityChange(ctx).change(t, "isolated"),
        "export-kube": lambda t: KubeExport(ctx).export(t),
    }


ENTRY_NAMES = ["create", "start", "stop", "restart", "remove", "remove --purge-state", "require_pod", "adjust",
               "security", "export-kube"]
hostile_ids = st.one_of(
    st.sampled_from(["../x", "../../etc", "/etc/passwd", "a;rm -rf /", "аbc", "ａｂｃ", "a\u200db", "x" * 300, "",
                     "-x", "a\nb", "a\n", "..", ".", "a/b", "$(id)", "`id`", "a b", "\x1b[2J", "A"]),
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(list("ab9-./\\;$`\n\x00 ") + ["а", "\u200d", "－"]), max_size=70),
).filter(lambda text: not is_valid_id(text))


@pytest.fixture
def world(monkeypatch, tmp_path_factory):
    home = tmp_path_factory.mktemp("paths-home")
    engine = RecordingEngine()
    seen = install_id_spies(monkeypatch)
    ctx = private_context(monkeypatch, home, engine)
    return home, engine, seen, _entry_points(ctx)


@MANY
@given(hostile_ids, st.sampled_from(ENTRY_NAMES))
def test_hostile_ids_are_refused_before_any_name_path_or_engine_call(world, taskspace, entry):
    home, engine, seen, entries = world
    engine.calls.clear()
    seen.clear()
    before = files_under(home)
    with pytest.raises(UsageError) as caught:
        entries[entry](taskspace)
    assert "taskspace id" in caught.value.message
    assert seen == [], f"{entry}({taskspace!r}) built {seen}"
    assert engine.calls == [], f"{entry}({taskspace!r}) asked the engine: {engine.calls}"
    assert files_under(home) == before


@MANY
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=63).filter(is_valid_id),
       st.sampled_from([n for n in ENTRY_NAMES if n != "create"]))
def test_a_valid_id_gets_to_the_engine_with_only_valid_ids_in_names_and_paths(world, taskspace, entry):
    """The control: the spies and the recording engine do see what a valid id reaches."""
    _, engine, seen, entries = world
    engine.calls.clear()
    seen.clear()
    with pytest.raises(SymposiumError) as caught:  # the engine has no such taskspace
        entries[entry](taskspace)
    assert not isinstance(caught.value, UsageError) and "no taskspace" in caught.value.message
    assert engine.calls, "a valid id must get as far as the engine"
    if entry != "adjust":  # looking for a look-alike pod to name in the error: the spies see it
        assert ("pod_name", taskspace) in seen, seen
    assert invalid_ids_seen(seen) == []


def test_valid_ids_keep_paths_inside_the_state_dir(world):
    home, _, _, _ = world
    from symposium_tui.core.config import Settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.services.context import LifecycleContext

    ctx = LifecycleContext(PodmanBackend(RecordingEngine()), app_paths(), Settings())
    for taskspace in ("a", "0", "x" * 63, "fix-login-2"):
        path = ctx.taskspace_dir(taskspace).resolve()
        assert path.parent == (ctx.taskspace_dir("a").parent).resolve() and path.name == taskspace
        assert path.is_relative_to(home)
