"""A taskspace's network for its security level (see core.security): made with its pod, kept
before every start, refused at once inside its pod after one, removed with it. The backend does
each; here is what the product says when the courtesy of a fast refusal fails."""

from __future__ import annotations

from symposium_tui.core.backend import Undo
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import NetworkInfo
from symposium_tui.core.services.context import LifecycleContext


class TaskspaceNetwork:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend
        self.allow = ctx.settings.restricted_allow

    def set_up(self, taskspace: str, level: str, undo: Undo, mark: dict[str, str] | None = None) -> str | None:
        """The network the pod joins (None: the default), with its rules in place."""
        return self.backend.make_network(taskspace, level, self.allow, undo, mark)

    def ensure(self, taskspace: str, level: str) -> bool:
        """Before a start: put the rules back if something removed them. True if it had to."""
        return self.backend.keep_network(taskspace, level, self.allow)

    def refuse_inside(self, taskspace: str, level: str) -> None:
        """A courtesy (the host's rules enforce the level): a failure is a notice."""
        try:
            self.backend.refuse_inside(taskspace, level, self.allow)
        except SymposiumError as exc:
            self.ctx.note(f"{taskspace}: connections its {level} level blocks will time out instead of being "
                          f"refused at once: {exc.message}")

    def tear_down(self, taskspace: str, networks: tuple[NetworkInfo, ...]) -> list[str]:
        """After the pod is gone: its rules, then its networks. Returns the networks removed."""
        return self.backend.remove_network(taskspace, networks)
