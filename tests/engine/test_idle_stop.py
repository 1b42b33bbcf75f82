"""Stop when idle (issue #24) on the real isolated engine: `monitor` stops a taskspace that did
nothing for `auto_stop.after` within a tick of its time, and leaves one with an open SSH session
(until it closes) and one whose agent prints; `ls` says when each will stop and why one stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from symposium_tui.core.idle import MIN_AFTER
from tests.engine.conftest import make_repo
from tests.engine.test_lifecycle import create, discard
from tests.helpers import run_cli, wait_until

pytestmark = pytest.mark.engine

AFTER = 30  # seconds
INTERVAL = 1.0


class Monitor:
    """`monitor --json` in a process of its own, its lines gathered by a thread."""

    def __init__(self, uri: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", uri, "monitor", "--json",
                                      "--interval", str(INTERVAL)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def stats(self, taskspace: str) -> list[dict]:
        return [x for x in list(self.lines) if x["type"] == "stats" and x["id"] == taskspace]

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=30)
        return err


def auto_stop_log(ctx) -> list[dict]:
    path = ctx.paths.log_dir / "auto-stop.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def running(lifecycle, taskspace: str) -> bool:
    return any(c.running for c in lifecycle.inventory(taskspace).containers)


def test_monitor_stops_the_idle_one_and_not_one_in_use_or_whose_agent_prints(isolated, ctx, lifecycle, tmp_path):
    assert AFTER >= MIN_AFTER
    repo = make_repo(tmp_path / "idlestop")  # project "idlestop": only this test's taskspaces have the policy
    config = tmp_path / "config"
    (config / "symposium-tui").mkdir(parents=True)
    (config / "symposium-tui" / "config.yaml").write_text(
        f"auto_stop:\n  after: off\n  projects:\n    idlestop: {{after: {AFTER}s}}\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(config))
    names = ("is-idle", "is-ssh", "is-agent")
    session = monitor = None
    try:
        create(ctx, "is-ssh", repo)
        create(ctx, "is-agent", repo, agent_command=("sh", "-c", "while :; do echo tick; sleep 3; done"))
        create(ctx, "is-idle", repo)  # last: the monitor runs before it is due
        # a person's SSH session into is-ssh's dev container, idle all along
        session = subprocess.Popen(["ssh", "-F", str(ctx.paths.ssh_config), "-o", "BatchMode=yes",
                                    ctx.ssh_alias("is-ssh", "dev"), "sleep 600"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json", env=env).stdout)["taskspaces"]
        stops = {t["id"]: t["auto_stop_at"] for t in listed}
        assert all(stops[n] for n in names), stops  # ls says when each will stop
        assert all(t["auto_stop_at"] is None for t in listed if t["id"] not in names)  # others: never
        text = run_cli("--url", isolated.uri, "ls", env=env).stdout
        assert "STOPS" in text and "no monitor or dashboard runs" in text  # nothing would stop them yet

        monitor = Monitor(isolated.uri, env)
        wait_until(lambda: not running(lifecycle, "is-idle"), AFTER + 40, "monitor to stop the idle taskspace")
        stopped = wait_until(lambda: [r for r in auto_stop_log(ctx) if r["taskspace"] == "is-idle"
                                      and r["result"] == "stopped"], 20, "the stop's line in auto-stop.log")
        assert len(stopped) == 1, stopped
        # within a tick of its time: the look began in the first tick after it was due
        assert 0 <= stopped[0]["looked_at"] - stopped[0]["due_at"] <= INTERVAL + 1.5, stopped[0]
        assert abs(stopped[0]["due_at"] - datetime.fromisoformat(stopped[0]["last_sign"]).timestamp() - AFTER) < 1
        notices = [x["message"] for x in monitor.lines if x["type"] == "notice"]
        wait_until(lambda: any("is-idle stopped: idle for" in x["message"] for x in monitor.lines
                               if x["type"] == "notice"), 10, f"the monitor's notice ({notices})")

        # the other two were due as well (their containers started as long ago) but stay running
        assert running(lifecycle, "is-ssh") and running(lifecycle, "is-agent")
        held = wait_until(lambda: next((x for x in reversed(monitor.stats("is-ssh")) if x["auto_stop_held"]), None),
                          20, "is-ssh held by its session")
        assert held["auto_stop_held"] == "1 SSH session open", held
        assert any(r["taskspace"] == "is-ssh" and r["result"] == "kept running" for r in auto_stop_log(ctx))
        agent = monitor.stats("is-agent")[-1]
        assert agent["auto_stop_at"] and datetime.fromisoformat(agent["auto_stop_at"]).timestamp() > time.time(), \
            agent  # its output keeps putting its time off

        shown = run_cli("--url", isolated.uri, "ls", "--json", env=env)
        idle = next(t for t in json.loads(shown.stdout)["taskspaces"] if t["id"] == "is-idle")
        assert idle["status"] == "stopped" and idle["reason"].startswith("idle for") and idle["auto_stop_at"] is None
        assert "no monitor or dashboard runs" not in run_cli("--url", isolated.uri, "ls", env=env).stdout

        # the session ends: is-ssh stops at the next look
        session.terminate()
        session.wait(timeout=10)
        wait_until(lambda: not running(lifecycle, "is-ssh"), 40, "is-ssh to stop once its session closed")
        assert running(lifecycle, "is-agent")
        err = monitor.stop()
        monitor = None
        assert "Traceback" not in err, err
        # stopped, not removed; and the repairs leave it stopped: start brings it back
        assert not lifecycle.inventory("is-idle").empty
        assert run_cli("--url", isolated.uri, "start", "is-idle", env=env).returncode == 0
        back = json.loads(run_cli("--url", isolated.uri, "ls", "--json", env=env).stdout)["taskspaces"]
        assert next(t for t in back if t["id"] == "is-idle")["status"] == "running"
    finally:
        if monitor is not None:
            monitor.stop()
        if session is not None and session.poll() is None:
            session.kill()
        for name in names:
            discard(lifecycle, name)


def test_monitor_without_a_policy_stops_nothing_and_no_auto_stop_is_honoured(isolated, ctx, lifecycle, tmp_path):
    config = tmp_path / "config"
    (config / "symposium-tui").mkdir(parents=True)
    (config / "symposium-tui" / "config.yaml").write_text("auto_stop:\n  after: 10s\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(config))
    create(ctx, "is-off", make_repo(tmp_path / "other"))
    try:
        monitor = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "monitor",
                                    "--json", "--interval", "1", "--no-auto-stop"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        started = time.monotonic()
        seen = []
        while time.monotonic() - started < 20:
            seen.append(json.loads(monitor.stdout.readline()))
        monitor.send_signal(signal.SIGINT)
        monitor.communicate(timeout=30)
        assert running(lifecycle, "is-off")  # 10 s past its time and more, yet running
        shown = [x for x in seen if x["type"] == "stats" and x["id"] == "is-off"]
        assert shown and shown[-1]["auto_stop_at"] is not None  # the time is still said
        assert not any(x["type"] == "notice" and "is-off" in x["message"] for x in seen)
    finally:
        discard(lifecycle, "is-off")
