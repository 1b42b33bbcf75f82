"""Every dashboard action is also a command-palette command."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider


class DashboardCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for name, help_text, action in app.palette_actions():  # type: ignore[attr-defined]
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(app.run_action, action), help=help_text)
