"""The poller's observer asks for the containers list again only when something may have changed it:
an event of a container starting, stopping, being made or removed; not an exec (the changes feed's
reads of a taskspace make those every time it did something)."""

from __future__ import annotations

from symposium_tui.core.backend import Observation
from symposium_tui.core.models import EngineEvent
from symposium_tui.core.services.observe import Observer


class Listing:
    def __init__(self) -> None:
        self.asked: list[tuple[str, ...]] = []

    def observe(self, selector, kinds):  # noqa: ANN001
        self.asked.append(kinds)
        return Observation()


def event(action: str) -> EngineEvent:
    return EngineEvent(action, "c1", "taskspace-a-dev", "a", "dev", None)


def test_exec_events_do_not_ask_for_the_containers_again_and_a_start_does():
    backend = Listing()
    observer = Observer(backend, clock=lambda: 0.0)
    observer.containers([], 0.0)
    assert len(backend.asked) == 1
    observer._pending += [event("exec"), event("exec_died"), event("attach")]
    observer.containers([], 1.0)
    assert len(backend.asked) == 1
    observer.take_events()
    for action in ("start", "create", "remove", "died"):
        observer._pending.append(event(action))
        observer.containers([], 2.0)
        observer.take_events()
    assert len(backend.asked) == 5
    observer.containers([], 40.0)  # older than CONTAINERS_REFRESH
    assert len(backend.asked) == 6


def test_a_list_that_podman_fails_because_an_object_went_away_is_asked_again():
    """podman fails a volumes list with "no such volume" when a volume is removed while it lists
    (seen removing 200 taskspaces six at a time); other errors are not retried."""
    import pytest

    from symposium_tui.backends.podman.adapter import Engine
    from symposium_tui.core.errors import EngineError

    engine = Engine("unix:///nonexistent/podman.sock")
    answers = [EngineError("podman refused to list volumes: no volume with name x found in database: no such volume"),
               EngineError("podman refused to list volumes: no such volume"), []]

    def get_json(what, path, **params):  # noqa: ANN001, ANN202
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    engine._get_json = get_json
    assert engine.volumes() == [] and answers == []
    answers[:] = [EngineError("podman refused to list volumes: database is locked")]
    with pytest.raises(EngineError, match="database is locked"):
        engine.volumes()
