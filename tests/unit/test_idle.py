"""Stop when idle: the policy in config.yaml, when a taskspace is due, who is in a container."""

import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from symposium_tui.core import display as fmt
from symposium_tui.core.agent import AgentView, Signal
from symposium_tui.core.config import load_settings
from symposium_tui.core.errors import ConfigError
from symposium_tui.core.idle import (
    SESSIONS_SCRIPT,
    AutoStop,
    Sessions,
    last_sign,
    parse_processes,
    parse_sessions,
    stop_at,
)

NOW = 1_800_000_000.0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_project_wins_over_tier_over_default(tmp_path):
    policy = load_settings(write(tmp_path, (
        "auto_stop:\n  after: 2h\n  tiers:\n    premium: {after: 8h}\n    minimal: {after: 30s}\n"
        "  projects:\n    big: {after: off}\n    small: {after: 90m}\n")), environ={}).auto_stop
    assert policy.after_for("default", "web") == 7200
    assert policy.after_for("premium", "web") == 8 * 3600
    assert policy.after_for("minimal", "web") == 30
    assert policy.after_for("premium", "big") is None  # off for that project, whatever its tier
    assert policy.after_for("minimal", "small") == 90 * 60
    assert policy.anywhere


def test_no_section_never_stops(tmp_path):
    policy = load_settings(write(tmp_path, "debian_suite: bookworm\n"), environ={}).auto_stop
    assert policy == AutoStop()
    assert policy.after_for("default", "x") is None and not policy.anywhere


@pytest.mark.parametrize("text, line, key", [
    ("auto_stop:\n  after: 5s\n", 2, "auto_stop.after"),  # shorter than MIN_AFTER
    ("auto_stop:\n  after: soon\n", 2, "auto_stop.after"),
    ("auto_stop:\n  after: 2\n", 2, "auto_stop.after"),  # a number without a unit
    ("auto_stop:\n  afterr: 2h\n", 2, "auto_stop.afterr"),
    ("auto_stop: 2h\n", 1, "auto_stop"),
    ("auto_stop:\n  tiers:\n    premium: 8h\n", 3, "auto_stop.tiers.premium"),
    ("auto_stop:\n  projects:\n    web: {after: 2h, extra: 1}\n", 3, "auto_stop.projects.web"),
    ("auto_stop:\n  tiers: [premium]\n", 2, "auto_stop.tiers"),
])
def test_a_bad_policy_names_line_and_key(tmp_path, text, line, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"{path}:{line}" in str(caught.value) and f"{key}: expected" in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_latest_sign_of_life_counts():
    started = [datetime.fromtimestamp(NOW - 500, timezone.utc)]
    recorded = datetime.fromtimestamp(NOW - 300, timezone.utc).isoformat()
    assert last_sign(recorded, None, started, NOW) == NOW - 300
    printed = AgentView("running", output_at=NOW - 100)
    assert last_sign(recorded, printed, started, NOW) == NOW - 100
    signalled = AgentView("running", latest=Signal(NOW - 50, "progress", "x"), output_at=NOW - 100)
    assert last_sign(recorded, signalled, started, NOW) == NOW - 50
    assert last_sign(None, None, [], NOW) is None  # nothing tells: never stopped on a guess
    assert stop_at(None, NOW) is None and stop_at(60, None) is None and stop_at(60, NOW) == NOW + 60


def test_an_agent_cannot_put_its_stop_off_with_a_date_in_the_future():
    liar = AgentView("running", latest=Signal(NOW + 10**9, "progress", "x"), output_at=NOW + 10**8)
    assert last_sign(None, liar, [], NOW) == NOW


def listing(*processes: tuple[int, int, str], me: int = 999) -> str:
    lines = [f"{pid:>7} {ppid:>7} {command}" for pid, ppid, command in processes]
    return "\n".join([*lines, f"S {me}"]) + "\n"


def test_sessions_count_authenticated_ssh_and_exec_sessions_only():
    text = listing(
        (1, 0, "/bin/sh /entrypoint.sh"),
        (7, 1, "sshd: /usr/sbin/sshd -D -E /var/log/sshd.log -p 2222"),
        (40, 7, "sshd: [accepted]"),  # a health probe, before authentication
        (41, 7, "sshd: developer [priv]"),
        (42, 41, "sshd: developer@pts/0"),  # a person's login
        (43, 42, "-bash"),
        (50, 7, "sshd: developer@notty"),  # a forward (ssh -N -L)
        (60, 0, "/bin/bash"),  # `exec ID`: started by the engine
        (999, 0, f"/bin/sh -c {SESSIONS_SCRIPT[:80]}"),  # the listing
        (1000, 999, "head -c 1024"),
    )
    assert parse_sessions(text) == Sessions(ssh=2, execs=1)
    assert parse_sessions(listing((1, 0, "/init"), (7, 1, "sshd: [accepted]"))) == Sessions()
    assert Sessions(2, 1).describe() == "2 SSH sessions open, 1 exec session open"


def test_another_pollers_listing_is_no_session():
    text = listing((1, 0, "/init"), (5, 0, f"/bin/sh -c {SESSIONS_SCRIPT[:200]}"), me=6)
    assert parse_sessions(text) == Sessions()


@pytest.mark.parametrize("hostile", [
    "x 0 bash\n",  # not a pid
    "5\n",  # no parent
    "5 zero bash\n",
    "garbage\n" * 1000,
    "\x1b[2J\x00\n",
    "S x\n",
])
def test_the_listing_is_untrusted_text(hostile):
    assert parse_sessions(hostile + "S 9\n") == Sessions()


def test_the_script_lists_the_same_with_ps_and_without(tmp_path):
    """Run here for real: ps's listing and /proc's (an image without procps) agree on who is whose
    parent, for processes that live through both listings."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("head", "tr"):  # all the fallback needs besides the shell's builtins
        (bare / tool).symlink_to(shutil.which(tool))
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with_ps, me = parse_processes(subprocess.run(["sh", "-c", SESSIONS_SCRIPT], capture_output=True,
                                                     text=True, check=True).stdout)
        without, other = parse_processes(subprocess.run(["/bin/sh", "-c", SESSIONS_SCRIPT], capture_output=True,
                                                        text=True, check=True, env={"PATH": str(bare)}).stdout)
    finally:
        sleeper.kill()
    assert me > 0 and other > 0 and me != other
    assert with_ps[sleeper.pid] == without[sleeper.pid] == (os.getpid(), "sleep 30")
    assert with_ps[1][0] == without[1][0] == 0
    assert without[other][0] == os.getpid()  # the fallback's shell, started by this test


def test_stops_column_text():
    assert fmt.stops(None) == "-"
    assert fmt.stops(NOW + 90 * 60, now=NOW) == "in 1.5h"
    assert fmt.stops(NOW - 1, now=NOW) == "due"
    assert fmt.stops(NOW - 1, "1 SSH session open", now=NOW) == "held: 1 SSH session open"


def test_a_running_poller_takes_an_edited_auto_stop_and_keeps_it_when_the_file_breaks(tmp_path, monkeypatch):
    import os as _os

    from symposium_tui.core.services.poller import Poller, PollerSettings
    from tests.unit.fake_backend import FakeBackend, fake_context

    ctx = fake_context(monkeypatch, tmp_path, FakeBackend())
    config = ctx.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("auto_stop:\n  after: 20m\n")
    ctx.settings = load_settings(config, environ={})
    poller = Poller(ctx, PollerSettings(auto_stop=True))
    poller._reread_auto_stop()  # the first look takes the file as read at start
    assert poller._auto_stop.after_for("default", "x") == 1200
    config.write_text("auto_stop:\n  after: 30s\n")
    _os.utime(config, (1, 1))  # a different mtime, whatever the clock's resolution
    poller._reread_auto_stop()
    assert poller._auto_stop.after_for("default", "x") == 30
    config.write_text("auto_stop:\n  after: soon\n")
    _os.utime(config, (2, 2))
    poller._reread_auto_stop()
    assert poller._auto_stop.after_for("default", "x") == 30  # kept
    assert any("auto_stop stays as it was" in n for n in ctx.take_notices())
