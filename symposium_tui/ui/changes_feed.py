"""The list's CHANGES column: after each snapshot of a host, the next taskspace due a read
(core.services.changes_watch decides: one that did something since its last read, or was never
read) is read in a thread worker, one at a time per host; its cell comes back in a message.
Mixed into the App; `self` is the SymposiumApp."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import work

from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.services.changes_watch import UNREADABLE, cell
from symposium_tui.ui.messages import ChangesSummarized

if TYPE_CHECKING:
    from symposium_tui.session import HostSession


class ChangesFeed:
    def read_due_changes(self: Any, host: str) -> None:
        """Start the read of HOST's next taskspace due one, unless one of its reads runs."""
        state = self.hosts.get(host)
        if state is None or state.services is None or state.services.changes is None or \
                state.snapshot is None or state.snapshot.engine_error:
            return
        watch = state.changes
        watch.forget_except(t.id for t in state.snapshot.taskspaces)
        taskspace = watch.next_due(state.snapshot.taskspaces, time.time())
        if taskspace is not None:
            watch.began(taskspace)
            self.summarize_changes(state.services, host, taskspace)

    @work(thread=True, group="changes", exit_on_error=False)
    def summarize_changes(self: Any, services: HostSession, host: str, taskspace: str) -> None:
        began, text = time.time(), UNREADABLE
        try:
            with services.own_read(taskspace):
                text = cell(services.changes.read(taskspace, "summary"))
        except SymposiumError:
            pass  # shown as "?": the changes screen (D) says why
        finally:  # an unexpected failure is still said (App.on_worker_state_changed); the next reads go on
            self.post_message(ChangesSummarized(host, taskspace, text, began, time.time()))

    def on_changes_summarized(self: Any, message: ChangesSummarized) -> None:
        state = self.hosts.get(message.host)
        if state is None:
            return
        state.changes.finished(message.taskspace, message.text, message.began, message.ended)
        if home := self.home_screen():
            home.show_row(message.host, message.taskspace)
        self.read_due_changes(message.host)
