"""The one table of list columns (core.columns): what each list shows, in which order, what goes
first on a narrow terminal, and rows made alike from ls's and the dashboard's data."""

from __future__ import annotations

from types import SimpleNamespace

from symposium_tui.cli.taskspaces import _ls_rows, _ls_table
from symposium_tui.core import columns
from symposium_tui.core.agent import AgentSpec, AgentStatus, Signal, view
from symposium_tui.core.columns import Column, Place, RowFacts, columns_of, drop_order, headers, row_texts
from symposium_tui.core.health import Health, HealthState
from symposium_tui.core.models import ContainerInfo, ContainerState
from symposium_tui.core.services.poller import TaskspaceStatus
from symposium_tui.core.services.storage import StorageUse
from symposium_tui.core.stats import StatsSample
from symposium_tui.core.taskspace import Taskspace

AGENT = view(AgentStatus("running", since=100.0), True, 150.0, [Signal(120.0, "progress", "reading"),
                                                                 Signal(140.0, "attention", "need review")],
             0.0, 160.0, AgentSpec())
USE = StorageUse("fix-login-2", 52 * 2**20, 2 * 2**30, {"project": 52 * 2**20})
TASKSPACE = Taskspace("fix-login-2", "degraded", project="web-shop", tier="default", security="restricted",
                      dev_port=34335, agent_port=41281, reason="dev exited (exit code 137)", agent=AGENT)
STATUS = TaskspaceStatus("fix-login-2", Health(HealthState.DEGRADED, "dev exited (exit code 137)"), "web-shop",
                         "default", 34335, 41281, 3.0, 95 * 2**20, 4 * 2**30, 2000, None,
                         {"agent": ContainerInfo("a", "taskspace-fix-login-2-agent", "", ContainerState.RUNNING),
                          "dev": ContainerInfo("d", "taskspace-fix-login-2-dev", "", ContainerState.EXITED)},
                         USE, security="restricted", agent=AGENT)


def sample(cpu: float) -> StatsSample:
    return StatsSample(0.0, cpu, cpu / 100, 0, 0, 1, 0)


def test_each_list_shows_its_columns_in_its_order():
    assert headers("ls") == ["ID", "PROJECT", "BRANCH", "TYPE", "STATUS", "AGENT", "DEV", "AGT", "TIER", "SECURITY",
                             "STORAGE", "CREATED", "ACTIVITY", "STOPS", "DRIFT"]
    assert headers("ls", several_hosts=True)[0] == "HOST"
    assert headers("dashboard") == ["ID", "PROJECT", "HEALTH", "AGENT", "TIER", "NET", "DEV", "AGT", "CPU", "MEMORY",
                                    "CPU 20s", "CHANGES", "ACTIVITY"]
    assert drop_order("ls") == ("CREATED", "AGT", "DRIFT", "TYPE", "STOPS", "ACTIVITY", "BRANCH", "SECURITY", "TIER", "AGENT", "PROJECT",
                                "STORAGE", "DEV")
    assert drop_order("dashboard") == ("AGT", "DEV", "CHANGES", "NET", "TIER", "PROJECT", "CPU 20s", "ACTIVITY", "AGENT",
                                       "MEMORY", "CPU")


def test_a_column_both_lists_show_says_the_same_in_both():
    from_ls = RowFacts.of_taskspace(TASKSPACE, USE)
    from_dashboard = RowFacts.of_status(STATUS)
    shared = [c for c in columns_of("ls", True) if c in columns_of("dashboard", True) and c.header != "HOST"]
    assert [c.header for c in shared] == ["ID", "PROJECT", "AGENT", "DEV", "AGT", "TIER", "ACTIVITY"]
    assert row_texts(from_ls, shared) == row_texts(from_dashboard, shared) == \
        ["fix-login-2", "web-shop", "! attention: need review", "34335", "41281", "default", "-"]


def test_the_cells_of_each_list():
    ls = dict(zip(headers("ls"), row_texts(RowFacts.of_taskspace(TASKSPACE, USE), columns_of("ls"))))
    assert ls["STATUS"] == "degraded (dev exited (exit code 137))" and ls["STORAGE"] == "52Mi/2Gi"
    assert ls["SECURITY"] == "restricted" and ls["CREATED"] == "-" and ls["DRIFT"] == ""
    samples = {"taskspace-fix-login-2-agent": [sample(10.0)] * 12,
               "taskspace-fix-login-2-dev": [sample(40.0)]}  # made again later: one sample so far
    facts = RowFacts.of_status(STATUS, samples=samples)
    assert facts.cpu_recent == (10.0,) * 9 + (50.0,)  # the last ten ticks, the newest lined up
    dashboard = dict(zip(headers("dashboard"), row_texts(facts, columns_of("dashboard"))))
    assert dashboard["HEALTH"] == "degraded" and dashboard["NET"] == "restr" and dashboard["CPU"] == "3%"
    assert dashboard["MEMORY"] == "95Mi/4Gi" and len(dashboard["CPU 20s"]) == 10
    assert dashboard["CHANGES"] == "…"  # not read yet
    read = dict(zip(headers("dashboard"), row_texts(RowFacts.of_status(STATUS, changes="+12 −3 · 2c"),
                                                    columns_of("dashboard"))))
    assert read["CHANGES"] == "+12 −3 · 2c"
    over = RowFacts.of_status(STATUS, host="box2", host_down=True)
    assert over.state == "host down" and over.host == "box2"


def test_a_column_added_to_the_table_is_in_ls(monkeypatch):
    """One entry and ls has it: its header, its place, its cell (the dashboard: tests/ui/test_list.py)."""
    added = Column("SHORT", lambda f: f.id[:3].upper(), ls=Place(15, drop=5), dashboard=Place(5))
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, added))
    monkeypatch.delenv("COLUMNS", raising=False)  # no terminal here: every column
    listing = SimpleNamespace(taskspaces=[TASKSPACE])
    lines = _ls_table(_ls_rows(listing, {"fix-login-2": USE})).splitlines()
    assert lines[0].split()[:3] == ["ID", "SHORT", "PROJECT"]
    assert lines[1].split()[:3] == ["fix-login-2", "FIX", "web-shop"]
    assert drop_order("ls")[0] == "SHORT"  # it goes first on a narrow terminal
    assert headers("dashboard")[0] == "SHORT"


def test_cells_from_an_engine_are_shown_escaped_in_both_lists():
    """A project label with a terminal escape (an agent can set its pod's labels only through
    the product, but an engine is not always the person's own) is seen, never acted on."""
    from dataclasses import replace

    hostile = replace(STATUS, project="web\x1b[2Jshop\r")
    facts = RowFacts.of_status(hostile)
    project = next(c for c in columns_of("dashboard") if c.header == "PROJECT")
    assert columns.cell_text(project, facts) == "web\\x1b[2Jshop\\r"
    ls = dict(zip(headers("ls"), row_texts(RowFacts.of_taskspace(replace(TASKSPACE, project="a\x1bb"), USE),
                                           columns_of("ls"))))
    assert ls["PROJECT"] == "a\\x1bb"
