"""Every dashboard action is also a command-palette command (App.get_system_commands)."""

from __future__ import annotations

# (name, what it does, action): the palette lists those the app allows now (check_action), so a
# read-only dashboard offers none of the changes.
PALETTE = (
    ("Show keys", "the keys of this screen, and those that work everywhere", "help"),
    ("Notifications", "every message shown, newest first", "notifications"),
    ("Taskspace details", "live stats, restarts, volumes, SSH commands", "details"),
    ("Logs", "agent or dev output, following", "logs"),
    ("Changes", "files, commits and the patch since its start commit; fetch its branch", "changes"),
    ("SSH into dev", "suspend the dashboard and ssh into the dev container", "ssh('dev')"),
    ("SSH into agent", "suspend the dashboard and ssh into the agent", "ssh('agent')"),
    ("Shell in dev (engine)", "a shell through the engine, not SSH: for when sshd is what broke", "exec('dev')"),
    ("Shell in agent (engine)", "a shell in the agent container through the engine, not SSH", "exec('agent')"),
    ("Forward a port", "a port inside (a dev server) on this machine's 127.0.0.1, while the dashboard runs",
     "forward"),
    ("Copy files", "into or out of the taskspace, running or stopped, as cp does", "copy"),
    ("Talk to the agent", "attach to the agent's session (the dashboard comes back on Ctrl-b d)", "attach"),
    ("Mark agent seen", "what the agent asked for (attention, done) is seen: the row is no longer marked",
     "seen"),
    ("Create taskspace", "a form, then a progress bar", "create"),
    ("Adjust resources", "tier, memory or CPU, applied live", "adjust"),
    ("Network security", "isolated, restricted or open; after a confirmation", "security"),
    ("Cleanup preview", "the dry-run plan; nothing is deleted until you confirm", "cleanup"),
    ("Restart taskspace", "restart its containers", "restart"),
    ("Start taskspace", "start a stopped taskspace", "start"),
    ("Stop taskspace", "stop it; health checks leave it stopped", "stop"),
    ("Remove taskspace", "after a confirmation that shows what is kept", "remove"),
    ("Switch host", "one engine host's taskspaces, or every host's with a host column", "hosts"),
    ("Mark the row", "mark or unmark it (space): stop, start, restart and remove then act on all marked", "mark"),
    ("Sort the list", "next order: attention, id, CPU, memory, activity, health (kept)", "sort"),
    ("Refresh", "poll the engine now", "refresh"),
    ("Quit", "leave the dashboard", "quit"),
)
READ_ONLY_HELP = {"cleanup": "the dry-run plan (read-only: it cannot be applied here)",
                  "changes": "files, commits and the patch since its start commit (read-only: no fetch)"}


def palette_actions(app) -> list[tuple[str, str, str]]:  # noqa: ANN001 - the SymposiumApp
    actions = []
    for name, help_text, action in PALETTE:
        if app.check_action(action.split("(")[0], ()):
            if app.read_only:
                help_text = READ_ONLY_HELP.get(action, help_text)
            actions.append((name, help_text, action))
    return actions
