"""Stop when idle: the policy (`auto_stop` in config.yaml) and when a taskspace is due.

A running taskspace is due to stop `after` seconds past its last sign of life: the activity the
poller records (CPU above the idle threshold, new processes, traffic, starts and execs: what
cleanup goes by), the agent's output and signals, the start of its containers. What is due is
stopped only when nobody is in it (sessions_in: an SSH session, an exec session). Times that came
from a taskspace (its agent's output, its signals) are untrusted: one in the future counts as now,
so an agent cannot put its own stop off for ever by writing a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from symposium_tui.core.agent import AgentView

MIN_AFTER = 10.0  # seconds: a shorter idle time would stop taskspaces between two keystrokes
MAX_PROCESS_BYTES = 1 << 20  # of the process listing read from a container
MAX_PROCESSES = 20_000


@dataclass(frozen=True)
class AutoStop:
    """`auto_stop: {after: 2h, tiers: {premium: {after: 8h}}, projects: {big: {after: off}}}`:
    a project's wins over its tier's, a tier's over the default; None: never."""

    after: float | None = None
    tiers: tuple[tuple[str, float | None], ...] = ()
    projects: tuple[tuple[str, float | None], ...] = ()

    def after_for(self, tier: str, project: str) -> float | None:
        for name, after in self.projects:
            if name == project:
                return after
        for name, after in self.tiers:
            if name == tier:
                return after
        return self.after

    @property
    def anywhere(self) -> bool:
        """Would any taskspace ever be stopped?"""
        return self.after is not None or any(a is not None for _, a in (*self.tiers, *self.projects))


def _stamp(text: object) -> float | None:
    try:
        return datetime.fromisoformat(str(text)).timestamp() if text else None
    except ValueError:
        return None


def last_sign(last_activity: str | None, agent: AgentView | None, started: list[datetime],
              now: float) -> float | None:
    """The latest sign of life: recorded activity, the agent's output and newest signal, the
    latest container start. None when nothing tells (never stopped on a guess)."""
    found = [t for t in (_stamp(last_activity), *(s.timestamp() for s in started)) if t is not None]
    if agent is not None:
        found += [t for t in (agent.output_at, agent.since, agent.latest.time if agent.latest else None)
                  if isinstance(t, (int, float)) and t > 0]
    return min(max(found), now) if found else None


def stop_at(after: float | None, last: float | None) -> float | None:
    return None if after is None or last is None else last + after


def stop_time(policy: AutoStop, tier: str, project: str, last_activity: str | None, agent: AgentView | None,
              running: list, now: float) -> float | None:  # running: ContainerInfo of its running containers
    """When a running taskspace stops if it stays idle (None: never, or nothing tells)."""
    return stop_at(policy.after_for(tier, project),
                   last_sign(last_activity, agent, [c.started for c in running if c.started], now))


@dataclass(frozen=True)
class Sessions:
    """Who is in a container now: authenticated SSH sessions (sshd's `user@tty` processes; a
    health probe never authenticates, so it has none) and exec sessions (a process the engine
    started: parent 0 in the container, besides its first process and the listing itself)."""

    ssh: int = 0
    execs: int = 0

    def __add__(self, other: Sessions) -> Sessions:
        return Sessions(self.ssh + other.ssh, self.execs + other.execs)

    def describe(self) -> str:
        parts = [f"{n} {what}{'s' if n != 1 else ''} open" for n, what in
                 ((self.ssh, "SSH session"), (self.execs, "exec session")) if n]
        return ", ".join(parts)


# One constant command (nothing of ours in it): each process as `PID PPID COMMAND LINE`, from ps
# when the image has it (one process, the cheapest), else from /proc (the parent is the field after
# the last ')' of stat: a name may hold anything; newlines and NULs made spaces); the listing's own
# pid last.
SESSIONS_SCRIPT = (
    "if command -v ps >/dev/null 2>&1; then ps -ww -eo pid=,ppid=,args=; "
    "else cd /proc 2>/dev/null || exit 0; for p in [0-9]*; do set -f; "
    "s=$(head -c 1024 \"$p/stat\" 2>/dev/null | tr '\\n' ' ') || continue; s=${s##*)}; set -- $s; "
    "c=$(head -c 256 \"$p/cmdline\" 2>/dev/null | tr '\\000\\n' '  '); "
    "printf '%s %s %s\\n' \"$p\" \"$2\" \"$c\"; done; fi; printf 'S %s\\n' \"$$\"")


def parse_sessions(text: str) -> Sessions:
    """Who is in a container, from SESSIONS_SCRIPT's output."""
    listing, me = parse_processes(text)
    ssh = sum(1 for _, command in listing.values() if _ssh_session(command))
    execs = sum(1 for pid, (parent, command) in listing.items() if parent == 0 and pid not in (1, me)
                and not _our_listing(command))
    return Sessions(ssh, execs)


def parse_processes(text: str) -> tuple[dict[int, tuple[int, str]], int]:
    """pid -> (parent, command line), and the listing's own pid, from SESSIONS_SCRIPT's output
    as untrusted text: bounded, a line not of its shape skipped."""
    text = text[:MAX_PROCESS_BYTES]
    listing: dict[int, tuple[int, str]] = {}
    me = -1
    for line in text.splitlines()[:MAX_PROCESSES]:
        parts = line.split(None, 2)
        if len(parts) == 2 and parts[0] == "S" and parts[1].isdigit():
            me = int(parts[1])
        elif len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            listing[int(parts[0])] = (int(parts[1]), parts[2].strip() if len(parts) == 3 else "")
    return listing, me


def _ssh_session(command: str) -> bool:
    """sshd names a session's process `sshd: USER@pts/N` or `sshd: USER@notty` (a command, a
    forward); before authentication it is `sshd: [accepted]`, `sshd: USER [priv]` or `[net]`."""
    if not command.startswith("sshd: "):
        return False
    words = command[len("sshd: "):].split()
    return bool(words) and "@" in words[0] and not words[0].startswith("[")


def _our_listing(command: str) -> bool:
    """A listing of ours run at the same moment by another process (monitor and a dashboard)."""
    return f" -c {SESSIONS_SCRIPT[:40]}" in command
