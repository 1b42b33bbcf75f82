"""The poller on the real engine: events, auto-restart, backoff, SSH checks, constant calls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from symposium_tui.core.health import HealthState
from symposium_tui.core.restarts import RestartPolicy
from symposium_tui.core.services.poller import Poller, PollerSettings
from tests.engine.test_lifecycle import create, discard, dnat_rules, drop_port_forward, ssh
from tests.helpers import assert_clean_failure, run_cli, wait_until

pytestmark = pytest.mark.engine

FAST = RestartPolicy(base_delay=0.3, factor=2.0, max_delay=5.0, max_attempts=3, window=120.0)


class Running:
    """A poller running its loop in a thread, its snapshots collected with their arrival times."""

    def __init__(self, ctx, settings: PollerSettings) -> None:
        self.poller = Poller(ctx, settings)
        self.snapshots: list = []
        self.thread = threading.Thread(target=self.poller.run,
                                       args=(lambda s: self.snapshots.append((time.monotonic(), s)),),
                                       daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.poller.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the poller did not stop"

    def health(self, taskspace: str):
        for _, snapshot in reversed(self.snapshots):
            for status in snapshot.taskspaces:
                if status.id == taskspace:
                    return status.health
        return None

    def wait_health(self, taskspace: str, state: HealthState, timeout: float):
        return wait_until(lambda: (h := self.health(taskspace)) is not None and h.state is state and h,
                          timeout, f"{taskspace} to be {state.value}")


@pytest.mark.network_backends
def test_a_killed_dev_container_is_seen_at_once_restarted_and_recorded(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-kill", repo)
    try:
        # A long interval: only the event stream can make the poller notice within seconds.
        with Running(ctx, PollerSettings(interval=60.0, restart=FAST)) as run:
            run.wait_health("hl-kill", HealthState.HEALTHY, 30)
            time.sleep(0.5)  # let the event stream connect
            killed_at = time.monotonic()
            isolated.cli("kill", "taskspace-hl-kill-dev")
            down = wait_until(lambda: next(((t, s) for t, s in run.snapshots if t > killed_at and any(
                x.id == "hl-kill" and x.health.state is not HealthState.HEALTHY for x in s.taskspaces)), None),
                10, "the death to be seen")
            assert down[0] - killed_at < 5  # far sooner than the 60 s tick
            reason = next(x for x in down[1].taskspaces if x.id == "hl-kill").health.reason
            assert "dev exited" in reason
            run.wait_health("hl-kill", HealthState.HEALTHY, 30)
            records = list(run.poller.restarts_of("hl-kill"))
            assert [(r.container, r.result) for r in records] == [("taskspace-hl-kill-dev", "restarted")]
            assert "exit code 137" in records[0].reason
        logged = [json.loads(line) for line in (ctx.paths.log_dir / "restarts.log").read_text().splitlines()]
        assert any(r["container"] == "taskspace-hl-kill-dev" and r["result"] == "restarted" for r in logged)
        health_log = [json.loads(line) for line in (ctx.paths.log_dir / "health.log").read_text().splitlines()]
        mine = [(r["from"], r["to"]) for r in health_log if r["taskspace"] == "hl-kill"]
        assert ("healthy", "down") in mine or ("healthy", "degraded") in mine
        assert mine[-1][1] == "healthy"
        assert ssh(ctx, "hl-kill-dev", "true").returncode == 0
    finally:
        discard(lifecycle, "hl-kill")


def test_a_crash_loop_backs_off_and_gives_up_with_the_reason(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-loop", repo)
    try:
        broken = ssh(ctx, "hl-loop-dev", "true")
        assert broken.returncode == 0
        # Break sshd's configuration: from now on the container exits as soon as it starts.
        isolated.cli("exec", "taskspace-hl-loop-dev", "sh", "-c",
                     "echo 'NoSuchOption yes' >> /etc/ssh/sshd_config.d/00-symposium.conf")
        with Running(ctx, PollerSettings(interval=60.0, restart=FAST)) as run:
            run.wait_health("hl-loop", HealthState.HEALTHY, 30)
            isolated.cli("kill", "taskspace-hl-loop-dev")
            wait_until(lambda: any(r.result.startswith("gave up") for r in run.poller.restarts_of("hl-loop")),
                       30, "the poller to give up")
            records = list(run.poller.restarts_of("hl-loop"))
            restarts = [r for r in records if r.result == "restarted"]
            assert len(restarts) == FAST.max_attempts
            gaps = [b.time - a.time for a, b in zip(restarts, restarts[1:])]
            assert gaps == sorted(gaps) and gaps[-1] > gaps[0]  # growing delays
            assert gaps[0] >= FAST.delay(1) * 0.9
            health = wait_until(lambda: (h := run.health("hl-loop")) and "gave up" in h.reason and h, 10,
                                "the reason to show")
            assert health.state is HealthState.DOWN or health.state is HealthState.DEGRADED
            assert "auto-restart gave up after 3 restarts" in health.reason
    finally:
        discard(lifecycle, "hl-loop")


def test_a_stopped_ssh_server_is_degraded_with_that_reason(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-ssh", repo)
    try:
        # An SSH server that answered is asked again every ssh_probe_every seconds (each port at
        # its own phase, within 1.5 times that), not every tick: a greeting starts an sshd. That
        # re-check's answer counts from the tick it arrives in; a silent port is asked every tick.
        clock = [time.time()]
        poller = Poller(ctx, PollerSettings(repair=False), clock=lambda: clock[0])

        def state_now():
            clock[0] += 2
            return next(t for t in poller.tick().taskspaces if t.id == "hl-ssh").health

        assert state_now().state is HealthState.HEALTHY  # both ports asked and waited for
        asked = []
        ssh_answers = ctx.backend.ssh_answers
        ctx.backend.ssh_answers = lambda port: asked.append(port) or ssh_answers(port)
        try:
            isolated.cli("exec", "taskspace-hl-ssh-dev", "sh", "-c", "kill $(cat /run/sshd.pid)")
            assert state_now().state is HealthState.HEALTHY and asked == []  # not due yet
            clock[0] += PollerSettings().ssh_probe_every * 1.5
            health = wait_until(lambda: (h := state_now()).state is HealthState.DEGRADED and h, 10,
                                "the silent port to be seen")
            assert health.reason == "dev SSH not answering on 127.0.0.1"
            assert len(asked) >= 2  # both containers' ports were due
            assert next(t for t in poller.tick().taskspaces if t.id == "hl-ssh").containers["dev"].running
            before = len(asked)  # one that does not answer is asked (and waited for) every tick
            assert state_now().state is HealthState.DEGRADED and len(asked) == before + 1
            assert state_now().state is HealthState.DEGRADED and len(asked) == before + 2
        finally:
            del ctx.backend.ssh_answers
    finally:
        discard(lifecycle, "hl-ssh")


def test_one_tick_costs_the_same_engine_calls_for_1_and_10_taskspaces(isolated, ctx, lifecycle, repo):
    ids = [f"many-{n}" for n in range(10)]  # (benchmarks/ measures 200)
    try:
        create(ctx, ids[0], repo)
        # storage measured on every tick too: three calls in a steady state (pods, stats, volumes;
        # their sizes are read from this machine's file systems); the containers list only when the
        # pods list shows a change
        poller = Poller(ctx, PollerSettings(repair=False, storage_every=1e-9))
        poller.tick()
        one = poller.tick()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: create(ctx, i, repo), ids[1:]))
        poller.tick()
        ten = poller.tick()
        ours = [t for t in ten.taskspaces if t.id.startswith("many-")]
        assert len(ours) == 10 and all(t.health.state is HealthState.HEALTHY for t in ours)
        assert all(t.cpu_percent is not None for t in ours)
        assert all(t.storage is not None for t in ours)
        assert one.calls == ten.calls == 3
        # a container that stops shows in the pods list: that tick asks for the containers too
        isolated.cli("stop", "-t", "0", "taskspace-many-3-dev")
        changed = poller.tick()
        assert changed.calls == 4
        assert next(t for t in changed.taskspaces if t.id == "many-3").containers["dev"].running is False
    finally:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: discard(lifecycle, i), ids))


def test_stats_history_and_activity(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-busy", repo)
    try:
        ctx.registry.put("hl-busy", {"last_activity": "2000-01-01T00:00:00+00:00"})
        poller = Poller(ctx, PollerSettings(repair=False, interval=0.5))
        poller.tick()
        ssh(ctx, "hl-busy-dev", "timeout 3 sh -c 'while :; do :; done' >/dev/null 2>&1 &")
        time.sleep(1.5)
        status = next(t for t in poller.tick().taskspaces if t.id == "hl-busy")
        # one busy core of a two-CPU quota is about 50 % (less when the machine is loaded: a CI-style
        # run beside other test runs on two cores measured 23 %), against about 0 idle
        assert status.cpu_percent is not None and 10 < status.cpu_percent <= 110
        assert status.mem_bytes and status.mem_limit == 4 * 2**30
        samples = poller.history.samples("taskspace-hl-busy-dev")
        assert samples and samples[-1].cpu_percent > 10
        assert ctx.registry.read()["hl-busy"]["last_activity"] > "2026"
    finally:
        discard(lifecycle, "hl-busy")


@pytest.mark.network_backends
def test_health_command_exit_codes_json_and_repair(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-cli", repo)
    try:
        ok = run_cli("--url", isolated.uri, "health", "--json")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        data = json.loads(ok.stdout)
        assert data["ok"] is True
        assert {t["id"]: t["health"] for t in data["taskspaces"]}["hl-cli"] == "healthy"
        isolated.cli("kill", "taskspace-hl-cli-dev")
        bad = run_cli("--url", isolated.uri, "health", "--json")
        assert bad.returncode == 1
        row = {t["id"]: t for t in json.loads(bad.stdout)["taskspaces"]}["hl-cli"]
        assert row["health"] == "degraded" and "dev exited" in row["reason"]
        text = run_cli("--url", isolated.uri, "health")
        assert text.returncode == 1 and "try --repair" in text.stdout
        repaired = run_cli("--url", isolated.uri, "health", "--repair", "--json")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        repair = json.loads(repaired.stdout)
        assert [(r["container"], r["result"]) for r in repair["repairs"]] == [("taskspace-hl-cli-dev", "restarted")]
        # Stopped on purpose: reported, not a failure, and never restarted.
        lifecycle.stop("hl-cli")
        stopped = run_cli("--url", isolated.uri, "health", "--repair", "--json")
        assert stopped.returncode == 0
        payload = json.loads(stopped.stdout)
        assert payload["repairs"] == []
        assert {t["id"]: t["health"] for t in payload["taskspaces"]}["hl-cli"] == "stopped"
    finally:
        discard(lifecycle, "hl-cli")


@pytest.mark.network_backends
def test_health_repair_makes_a_lost_port_forward_again(isolated, ctx, lifecycle, repo):
    """Both containers run and sshd listens, but the engine lost the dev port's forward:
    `health` says the port is silent, `health --repair` restarts the pod (which makes the
    forwards again) and SSH answers."""
    created = create(ctx, "hl-fwd", repo)
    try:
        drop_port_forward(created.dev_port)
        bad = run_cli("--url", isolated.uri, "health", "--json")
        assert bad.returncode == 1, bad.stdout + bad.stderr
        row = {t["id"]: t for t in json.loads(bad.stdout)["taskspaces"]}["hl-fwd"]
        assert row["health"] == "degraded" and row["reason"] == "dev SSH not answering on 127.0.0.1"
        repaired = run_cli("--url", isolated.uri, "health", "--repair", "--json")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        repairs = json.loads(repaired.stdout)["repairs"]
        assert [(r["container"], r["result"]) for r in repairs] == [("taskspace-hl-fwd", "restarted")]
        assert "sshd listens but its published port does not answer" in repairs[0]["reason"]
        assert any("-j DNAT" in rule for rule in dnat_rules(created.dev_port))
        assert ssh(ctx, "hl-fwd-dev", "cat /workspace/README.md").stdout == "hello\n"
    finally:
        discard(lifecycle, "hl-fwd")


def test_monitor_prints_ticks_and_stops_on_ctrl_c(isolated, ctx, lifecycle, repo):
    create(ctx, "hl-mon", repo)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "monitor",
                                 "--interval", "0.5", "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(json.loads(line))
            if sum(1 for x in lines if x["type"] == "stats" and x["id"] == "hl-mon"
                   and x["cpu_percent"] is not None) >= 2:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        assert any(x["type"] == "transition" and x["taskspace"] == "hl-mon" for x in lines)
        assert any(x["type"] == "stats" and x["id"] == "hl-mon" and x["health"] == "healthy" for x in lines)
    finally:
        discard(lifecycle, "hl-mon")


def test_monitor_refuses_a_silly_interval():
    assert_clean_failure(run_cli("--url", "unix:///nowhere.sock", "monitor", "--interval", "0"), 2)


def test_monitor_says_the_limits_as_set_and_restarts_another_process_made(isolated, ctx, lifecycle, repo):
    """`mem 5M/1.5G` for a 1536Mi limit (it said 2 GiB), `measuring` until a CPU rate exists (it
    said `cpu - of 1 CPUs`), and a line for a restart the dashboard (another process) made."""
    create(ctx, "hl-mon2", repo)
    try:
        assert run_cli("--url", isolated.uri, "adjust", "hl-mon2", "--memory", "1536Mi", "--cpu", "1").returncode == 0
        proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "monitor",
                                 "--interval", "0.5", "--no-repair"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            first = wait_until(lambda: (line := proc.stdout.readline()) and " hl-mon2 " in line and line, 30,
                               "a stats line")
            assert "cpu measuring of 1 CPU," in first and "/1.5Gi" in first, first
            isolated.cli("kill", "taskspace-hl-mon2-dev")
            dashboard = Poller(ctx, PollerSettings(repair=True, restart=FAST))  # as the dashboard's
            wait_until(lambda: any(r.result == "restarted" for r in dashboard.tick().restarts), 30,
                       "the dashboard's poller to restart the dev container")
            seen = wait_until(lambda: (line := proc.stdout.readline()) and "restart taskspace-hl-mon2-dev" in line
                              and line, 30, "the monitor to print the other process's restart")
            assert ": restarted (by pid " in seen, seen
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=15)
    finally:
        discard(lifecycle, "hl-mon2")


def test_a_taskspace_made_while_the_poller_runs_is_measured_at_once(isolated, ctx, lifecycle, repo):
    """Its storage figures came with the next full measurement, up to a minute later (the
    details screen said 'volumes: measuring…' meanwhile). And a new poller's first snapshot."""
    poller = Poller(ctx, PollerSettings(repair=False, storage_every=3600))
    poller.tick()
    create(ctx, "hl-new", repo)
    try:
        status = next(t for t in poller.tick().taskspaces if t.id == "hl-new")
        assert status.storage is not None and status.storage.enforced and status.storage.limit > 0

        # The loop's first snapshot is the quick one (no stats call, no measuring: the dashboard's
        # first paint); the full one follows without waiting for the interval.
        with Running(ctx, PollerSettings(repair=False, interval=30)) as running:
            wait_until(lambda: len(running.snapshots) >= 2, 20, "two snapshots")
        (first_at, first), (second_at, second) = running.snapshots[:2]
        quick = next(t for t in first.taskspaces if t.id == "hl-new")
        full = next(t for t in second.taskspaces if t.id == "hl-new")
        assert quick.storage is None and full.storage is not None
        assert running.poller.history.previous_raw("taskspace-hl-new-dev") is not None  # stats were read
        assert second_at - first_at < 15  # not the 30 s interval
    finally:
        discard(lifecycle, "hl-new")
