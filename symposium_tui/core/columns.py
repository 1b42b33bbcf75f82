"""The columns of the taskspace lists, defined once: `ls` and the dashboard are built from COLUMNS.

A column is its header, how one row's facts become its text, and, for each list that shows it
(ls, the dashboard), where it stands and when it goes on a narrow terminal. Both lists read one
kind of row: RowFacts, which ls makes from a Taskspace and its disk use and the dashboard from the
poller's TaskspaceStatus. Adding a column is one entry in COLUMNS (and a field of RowFacts and a
line in each of its two makers, when it shows something neither knows yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import humanize

from symposium_tui.core import display as fmt

if TYPE_CHECKING:
    from symposium_tui.core.services.poller import TaskspaceStatus
    from symposium_tui.core.services.storage import StorageUse
    from symposium_tui.core.stats import StatsSample
    from symposium_tui.core.taskspace import Taskspace

List = Literal["ls", "dashboard"]
CPU_TICKS = 10  # the ticks the dashboard's sparkline shows
NET_SHORT = {"isolated": "isol", "restricted": "restr", "open": "open"}  # the security level, in 5 cells
HEALTH_STYLE = {"healthy": "green", "degraded": "yellow", "down": "red", "creating": "cyan",
                "stopped": "dim", "gone from engine": "magenta", "host down": "bold red"}


@dataclass(frozen=True)
class RowFacts:
    """What one row says about its taskspace, whichever list it is in."""

    id: str
    host: str = ""
    state: str = ""  # ls: its status (running, stopped, missing…); the dashboard: its health
    reason: str = ""  # why it is in that state
    project: str = ""
    tier: str = ""
    security: str = ""
    dev_port: int | None = None
    agent_port: int | None = None
    storage: str = ""  # its disk use against its limit ("": not measured)
    over_storage: bool = False
    created: datetime | None = None
    last_activity: str | None = None  # ISO time
    drift: str = ""  # how the registry and the engine disagree about it
    cpu_percent: float | None = None  # of its quota, now
    mem_bytes: int | None = None
    mem_limit: int = 0
    cpu_recent: tuple[float, ...] = ()  # its CPU over the last CPU_TICKS ticks, oldest first
    branch: str = ""  # the branch it works on (ls)
    project_type: str = ""  # its environment's toolchains (ls)
    changes: str | None = None  # the dashboard's: +12 −3 · 2c since its start commit (None: not read yet)
    agent: str = ""  # its agent's state, and the latest message (core.agent.AgentView.text)
    calling: bool = False  # its agent waits for the person (an attention or done signal not yet seen)
    stops_at: float | None = None  # when auto_stop stops it, idle (epoch seconds)
    stop_held: str = ""  # who keeps it running past that time

    @classmethod
    def of_taskspace(cls, t: Taskspace, storage: StorageUse | None, host: str = "") -> RowFacts:
        """A row of `ls`: the lifecycle's taskspace, and its disk use when it was measured."""
        return cls(id=t.id, host=host, state=t.status, reason=t.reason, project=t.project, tier=t.tier,
                   security=t.security, dev_port=t.dev_port, agent_port=t.agent_port,
                   storage=storage.describe() if storage is not None else "",
                   over_storage=storage is not None and storage.over, created=t.created,
                   last_activity=t.last_activity, drift=t.drift, branch=t.branch, project_type=t.project_type,
                   agent=t.agent.text() if t.agent else "", calling=bool(t.agent and t.agent.needs_attention),
                   stops_at=t.stops_at)

    @classmethod
    def of_status(cls, status: TaskspaceStatus, host: str = "", *, host_down: bool = False,
                  samples: Mapping[str, Sequence[StatsSample]] | None = None,
                  changes: str | None = None) -> RowFacts:
        """A row of the dashboard: the poller's status, the stats history of its containers (by
        container name) and its changes when they were read (changes_watch: only after it did
        something, never every tick). A host that does not answer keeps its last rows, marked."""
        return cls(id=status.id, host=host, state="host down" if host_down else status.health.state.value,
                   reason=status.health.reason, project=status.project, tier=status.tier,
                   security=status.security, dev_port=status.dev_port, agent_port=status.agent_port,
                   storage=status.storage.describe() if status.storage is not None else "",
                   over_storage=status.storage is not None and status.storage.over,
                   last_activity=status.last_activity, cpu_percent=status.cpu_percent,
                   mem_bytes=status.mem_bytes, mem_limit=status.mem_limit,
                   cpu_recent=recent_cpu([c.name for c in status.containers.values()], samples or {}),
                   changes=changes, agent=status.agent.text(), calling=status.agent.needs_attention,
                   stops_at=status.stops_at, stop_held=status.stop_held)


def recent_cpu(containers: Sequence[str], samples: Mapping[str, Sequence[StatsSample]]) -> tuple[float, ...]:
    """The containers' CPU added up tick by tick, the newest ticks lined up (a container made
    later has fewer samples)."""
    series = [list(samples.get(name, ()))[-CPU_TICKS:] for name in containers]
    length = max((len(s) for s in series), default=0)
    return tuple(sum(s[i - length + len(s)].cpu_percent for s in series if i - length + len(s) >= 0)
                 for i in range(length))


@dataclass(frozen=True)
class Place:
    """Where a column stands in one list (left to right by `at`), and when it goes on a narrow
    terminal: the lowest `drop` first; None stays."""

    at: int
    drop: int | None = None


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[RowFacts], str]
    ls: Place | None = None  # None: not in that list
    dashboard: Place | None = None
    width: int | None = None  # the dashboard's, fixed: a value that changes every tick never outgrows it
    most: int = 20  # without a fixed width: its longest value, up to this
    style: Callable[[RowFacts], str] | None = None  # the dashboard's colour of the cell
    cut: bool = False  # ls: cut with an ellipsis when the rest still does not fit
    hosts: bool = False  # only in a list of several hosts' taskspaces
    grows: int = 0  # the dashboard's: what the shown columns leave of the width goes to it, up to this

    def place(self, name: List) -> Place | None:
        return self.ls if name == "ls" else self.dashboard


def _status(f: RowFacts) -> str:
    return f.state + (f" ({f.reason})" if f.reason else "")


def _port(port: int | None) -> str:
    return str(port or "-")


AGENT_STYLE = {"running": "green", "idle": "dim", "exited": "yellow", "restarting": "yellow", "gave": "red"}

# Why they go in this order. ls: the ports are in `ssh-config`, creation and activity times in
# --json and the dashboard; ID and STATUS stay, and STATUS's reason is cut. The dashboard: ports and
# the network level are one key away (enter: the details screen, with the SSH commands), the tier
# too; the project often repeats; CPU, memory, the sparkline and the last activity are what the
# list is for; HOST, ID and HEALTH always stay. Empty ls columns go before any of these. CHANGES is
# the dashboard's only (ls would run git in every taskspace); it goes after the ports (D shows
# them whole), before the network level. AGENT (the agent's state and latest message; DEV and AGT
# are the SSH ports) stays longer than all but the CPU, memory and activity in the dashboard.
COLUMNS: tuple[Column, ...] = (
    Column("HOST", lambda f: f.host, ls=Place(0), dashboard=Place(0), most=14, hosts=True),
    Column("ID", lambda f: f.id, ls=Place(10), dashboard=Place(10), most=28),
    Column("PROJECT", lambda f: f.project or "-", ls=Place(20, drop=70), dashboard=Place(20, drop=50),
           most=16),
    Column("BRANCH", lambda f: f.branch or "-", ls=Place(25, drop=45), most=28),
    Column("TYPE", lambda f: f.project_type or "-", ls=Place(27, drop=35)),
    Column("STATUS", _status, ls=Place(30), cut=True),
    Column("HEALTH", lambda f: f.state + ("!" if f.over_storage else ""), dashboard=Place(30), width=9,
           style=lambda f: HEALTH_STYLE.get(f.state, "")),
    Column("TIER", lambda f: f.tier or "-", ls=Place(60, drop=60), dashboard=Place(40, drop=40), width=8),
    Column("NET", lambda f: NET_SHORT.get(f.security, f.security or "-"), dashboard=Place(50, drop=30),
           width=5),
    Column("DEV", lambda f: _port(f.dev_port), ls=Place(40, drop=90), dashboard=Place(60, drop=20), width=5),
    Column("AGT", lambda f: _port(f.agent_port), ls=Place(50, drop=20), dashboard=Place(70, drop=10),
           width=5),
    Column("AGENT", lambda f: f.agent or "-", ls=Place(35, drop=65), dashboard=Place(35, drop=75), most=18, grows=60,
           style=lambda f: "bold yellow" if f.calling else AGENT_STYLE.get(f.agent.split(" ", 1)[0], "")),
    Column("SECURITY", lambda f: f.security or "-", ls=Place(70, drop=50)),
    Column("STORAGE", lambda f: f.storage or "-", ls=Place(80, drop=80)),
    Column("CPU", lambda f: fmt.percent(f.cpu_percent), dashboard=Place(80, drop=90), width=4),
    Column("MEMORY", lambda f: fmt.memory(f.mem_bytes, f.mem_limit), dashboard=Place(90, drop=80), width=10),
    Column("CPU 20s", lambda f: fmt.sparkline(f.cpu_recent, width=CPU_TICKS), dashboard=Place(100, drop=60),
           width=10),
    Column("CREATED", lambda f: humanize.naturaltime(f.created) if f.created else "-", ls=Place(90, drop=10)),
    Column("ACTIVITY", lambda f: fmt.ago(f.last_activity), ls=Place(100, drop=40),
           dashboard=Place(110, drop=70), width=16),
    Column("CHANGES", lambda f: "…" if f.changes is None else f.changes, dashboard=Place(105, drop=25),
           width=14),
    Column("DRIFT", lambda f: f.drift, ls=Place(110, drop=30)),
    Column("STOPS", lambda f: fmt.stops(f.stops_at, f.stop_held), ls=Place(105, drop=38)),
)


def columns_of(name: List, several_hosts: bool = False) -> tuple[Column, ...]:
    """The columns a list shows, left to right."""
    shown = [c for c in COLUMNS if c.place(name) is not None and (several_hosts or not c.hosts)]
    return tuple(sorted(shown, key=lambda c: c.place(name).at))  # type: ignore[union-attr]


def headers(name: List, several_hosts: bool = False) -> list[str]:
    return [c.header for c in columns_of(name, several_hosts)]


def drop_order(name: List) -> tuple[str, ...]:
    """The headers of a list's columns in the order they go when the terminal is narrow."""
    dropping = [(place.drop, c.header) for c in COLUMNS if (place := c.place(name)) and place.drop is not None]
    return tuple(header for _, header in sorted(dropping))


def cut_column(name: List) -> str:
    """The column cut with an ellipsis when dropping others was not enough ("": none)."""
    return next((c.header for c in columns_of(name, True) if c.cut), "")


def cell_text(column: Column, facts: RowFacts) -> str:
    """A cell as `ls` and the dashboard show it: what came from an engine or a taskspace (a
    project label, a reason) with its control characters escaped, never acted on."""
    return fmt.printable(column.text(facts))


def row_texts(facts: RowFacts, columns: Sequence[Column]) -> list[str]:
    return [cell_text(c, facts) for c in columns]
