"""The agent in its taskspace (issue #20), on the real isolated engine, with a test agent that is a
small script in the repository: it gets its task, is watched and talked to in its tmux session,
is restarted when it fails and given up on when it keeps failing, and tells the person what it
needs with symposium-signal. The agent owns its state folder: what it plants there is never
followed to this machine's files, and a huge file there costs a bounded read."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from symposium_tui.backends.podman import agentstate
from symposium_tui.core.agent import AgentSpec
from symposium_tui.core.services.agents import BUDGET, AgentWatch, Seen, with_agents
from symposium_tui.core.services.context import LifecycleContext
from tests.engine.conftest import make_repo
from tests.engine.test_lifecycle import create, discard
from tests.helpers import run_cli

pytestmark = pytest.mark.engine

AGENT = """\
#!/bin/sh
# The test agent: says its task, then answers each line it reads.
echo "task: $(cat "$1")"
symposium-signal progress "reading the task"
while read -r line; do
    echo "got: $line"
    case $line in
        attention) symposium-signal attention "need review";;
        done) symposium-signal done "all green";;
        fail) exit 3;;
    esac
done
"""


@pytest.fixture(scope="module")
def agent_repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("agent") / "with-agent", {"README.md": "hi\n", "agent.sh": AGENT})


def until(predicate, timeout: float = 30.0, what: str = "the condition", every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def cli(isolated, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = run_cli("--url", isolated.uri, *args)
    assert result.returncode == code, (args, result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    return result


def agent_of(isolated, taskspace: str) -> dict:
    listed = json.loads(cli(isolated, "ls", "--json").stdout)["taskspaces"]
    return next(t for t in listed if t["id"] == taskspace)["agent"]


def in_agent(isolated, taskspace: str, script: str, user: str = "agent") -> str:
    return isolated.cli("exec", "-u", user, f"taskspace-{taskspace}-agent", "sh", "-c", script).stdout


class Terminal:
    """A tmux session on this machine, as a person's terminal running a command."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "150", "-y", "40",
                        shlex.join(command) + "; echo EXITED=$?; sleep 600"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def attach(isolated, taskspace: str) -> Terminal:
    env = {k: os.environ[k] for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    return Terminal(f"attach-{taskspace}", ["env", *(f"{k}={v}" for k, v in env.items()), os.sys.executable,
                                            "-m", "symposium_tui", "--url", isolated.uri, "attach", taskspace])


def detach(terminal: Terminal) -> None:
    terminal.keys("C-b")  # tmux's prefix, to the session inside (this tmux passes keys it is sent)
    terminal.keys("d")
    until(lambda: "EXITED=0" in terminal.screen(), 20, "attach to end on detach")


def test_the_agent_gets_its_task_is_talked_to_signals_and_survives_restarts(isolated, ctx, lifecycle, agent_repo):
    taskspace = "agent-talk"
    cli(isolated, "create", taskspace, "--repo", str(agent_repo), "--task", "Fix the login bug",
        "--agent-command", "sh /workspace/agent.sh {task}")
    terminal = None
    try:
        # attach (driven in tmux, as a person would) shows what the agent printed: its task
        terminal = attach(isolated, taskspace)
        until(lambda: "task: Fix the login bug" in terminal.screen(), 30, "the task in the agent's session")
        assert "detach: Ctrl-b d" in terminal.screen()  # the session's status line says how to leave
        # send types into the session; the agent reads it
        cli(isolated, "send", taskspace, "hello agent")
        until(lambda: "got: hello agent" in terminal.screen(), 20, "the sent line in the session")
        detach(terminal)
        assert agent_of(isolated, taskspace)["state"] == "running"  # detaching left it running
        assert agent_of(isolated, taskspace)["message"] == "reading the task"

        # attention: the next ls says so, as does health and the signals command
        cli(isolated, "send", taskspace, "attention")
        seen = until(lambda: (a := agent_of(isolated, taskspace))["needs_attention"] and a, 10, "the attention")
        assert seen["attention"]["kind"] == "attention" and seen["attention"]["message"] == "need review"
        health = json.loads(cli(isolated, "health", "--json").stdout)
        assert next(t for t in health["taskspaces"] if t["id"] == taskspace)["agent"]["needs_attention"] is True
        text = cli(isolated, "ls").stdout
        assert "! attention: need review" in text
        # attaching acknowledges it
        terminal.close()
        terminal = attach(isolated, taskspace)
        until(lambda: "got: attention" in terminal.screen(), 20, "the session again")
        detach(terminal)
        assert agent_of(isolated, taskspace)["needs_attention"] is False

        cli(isolated, "send", taskspace, "done")
        done = until(lambda: (a := agent_of(isolated, taskspace))["needs_attention"] and a, 10, "the done signal")
        assert done["attention"] == {"time": done["attention"]["time"], "kind": "done", "message": "all green"}
        signals = json.loads(cli(isolated, "signals", taskspace, "--json").stdout)["signals"]
        assert [(s["kind"], s["message"]) for s in signals] == [
            ("progress", "reading the task"), ("attention", "need review"), ("done", "all green")]
        plain = cli(isolated, "signals", taskspace).stdout
        assert "done      all green" in plain

        # the agent fails: restarted, the exit recorded
        cli(isolated, "send", taskspace, "fail")
        exits = until(lambda: in_agent(isolated, taskspace, "cat /agent/state/logs/exits.jsonl 2>/dev/null"),
                      20, "the exit to be recorded")
        assert json.loads(exits.splitlines()[0])["code"] == 3
        until(lambda: "restarts=1" in in_agent(isolated, taskspace, "cat /agent/state/logs/agent.status")
              and agent_of(isolated, taskspace)["state"] == "running", 20, "the agent to run again")

        # a pod restart (restart ID), and the agent container's alone: the session is back, the
        # log keeps the earlier output, the task is still there
        cli(isolated, "restart", taskspace)
        until(lambda: agent_of(isolated, taskspace)["state"] == "running", 30, "the agent after restart")
        isolated.cli("restart", "-t", "1", f"taskspace-{taskspace}-agent")
        until(lambda: agent_of(isolated, taskspace)["state"] == "running", 30, "the agent after its container's restart")
        cli(isolated, "send", taskspace, "after restarts")
        log = until(lambda: (out := in_agent(isolated, taskspace, "cat /agent/state/logs/agent-output.log"))
                    and "got: after restarts" in out and out, 20, "the new output in the log")
        assert "got: hello agent" in log and log.count("task: Fix the login bug") >= 4  # every start
        assert in_agent(isolated, taskspace, "cat /agent/state/task.md") == "Fix the login bug\n"
        assert in_agent(isolated, taskspace, "stat -c %U /proc/$(pgrep -f agent.sh | head -1)") == "agent\n"

        # export-kube carries the agent's command
        kube = cli(isolated, "export-kube", taskspace).stdout
        assert "SYMPOSIUM_AGENT_ARGV" in kube and "/workspace/agent.sh /agent/state/task.md" in kube
    finally:
        if terminal is not None:
            terminal.close()
        discard(lifecycle, taskspace)


@pytest.fixture(scope="module")
def failing(isolated, ctx, lifecycle, repo):
    """A taskspace whose agent fails at once, every time, restarted once before it is given up on."""
    quick = LifecycleContext(ctx.backend, ctx.paths, replace(ctx.settings, agent=AgentSpec(
        ("sh", "-c", "echo failing; exit 5"), restart_limit=1)))
    create(quick, "agent-fails", repo)
    until(lambda: "gave-up" in in_agent(isolated, "agent-fails", "cat /agent/state/logs/agent.status"),
          30, "the supervisor to give up")
    yield "agent-fails"
    discard(lifecycle, "agent-fails")


async def test_the_dashboard_says_an_agent_gave_up(isolated, failing):
    """(Before the test below, which makes it ask for attention.)"""
    from symposium_tui.ui.app import SymposiumApp
    from tests.ui.test_dashboard_engine import cells, until as until_shown

    app = SymposiumApp(isolated.uri, interval=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        row = await until_shown(pilot, lambda: (r := cells(app).get(failing)) and "gave up" in r["AGENT"] and r,
                                30, "the row of the agent that gave up")
        assert row["AGENT"].startswith("gave up (kept failing")


def test_an_agent_that_keeps_failing_is_given_up_on_and_every_list_says_why(isolated, ctx, failing):
    status = in_agent(isolated, failing, "cat /agent/state/logs/agent.status")
    assert "code=5" in status and "reason=failing" in status
    exits = [json.loads(line) for line in in_agent(isolated, failing, "cat /agent/state/logs/exits.jsonl").splitlines()]
    assert [e["code"] for e in exits] == [5, 5]  # the first run and the one restart
    assert agent_of(isolated, failing)["state"] == "gave up (kept failing, code 5)"
    health = json.loads(cli(isolated, "health", "--json").stdout)
    assert next(t for t in health["taskspaces"] if t["id"] == failing)["agent"]["state"] == \
        "gave up (kept failing, code 5)"
    assert "gave up (kept failing, code 5)" in cli(isolated, "health").stdout
    # its session holds a shell now: attaching still works, and typing runs commands
    cli(isolated, "send", failing, "symposium-signal attention 'from the shell'")
    until(lambda: agent_of(isolated, failing)["needs_attention"], 15, "a signal from the shell")


def test_the_agent_state_folder_is_read_without_following_what_the_agent_planted(isolated, ctx, lifecycle, repo,
                                                                                  tmp_path, monkeypatch):
    """The agent owns /agent/state: a link there to a file of this machine, a link in place of its
    logs folder, a FIFO: none is read, nothing hangs. A signals file of 1 GB costs one read of at
    most the budget, and the next look, with nothing new, reads nothing."""
    create(ctx, "agent-hostile", repo)
    try:
        host_files = tmp_path / "host"
        host_files.mkdir()
        (host_files / "signals.jsonl").write_text('{"time": 1.0, "kind": "attention", "message": "HOST FILE"}\n')
        (host_files / "agent.status").write_text("state=gave-up code=9 reason=failing\n")
        host_files.chmod(0o755)
        until(lambda: in_agent(isolated, "agent-hostile", "cat /agent/state/logs/agent.status").startswith("state=none"),
              20, "the shell session")
        in_agent(isolated, "agent-hostile", f"cd /agent/state && ln -sf {host_files}/signals.jsonl signals.jsonl && "
                                            f"mv logs logs.real && ln -s {host_files} logs")
        watch = AgentWatch(ctx, remote_every=0)
        seen = [Seen("agent-hostile", True, {})]
        watch.look(seen)
        view = watch.views["agent-hostile"]
        assert view.calling is None and view.message == "" and not watch.recent("agent-hostile")
        assert view.state == "none"  # no status read through the planted logs link
        in_agent(isolated, "agent-hostile", "cd /agent/state && rm signals.jsonl && mkfifo signals.jsonl")
        watch.look(seen)  # a FIFO is not opened for reading (it would block)
        assert not watch.recent("agent-hostile")

        # 1 GB (sparse), its last line a signal: one bounded read finds it
        in_agent(isolated, "agent-hostile", "cd /agent/state && rm signals.jsonl && truncate -s 1G signals.jsonl && "
                                            "printf '\\n%s\\n' '{\"time\": 5.0, \"kind\": \"progress\", "
                                            "\"message\": \"at the end of a big file\"}' >> signals.jsonl")
        read: list[int] = []
        real_pread = os.pread

        def counting(fd: int, length: int, offset: int) -> bytes:
            data = real_pread(fd, length, offset)
            read.append(len(data))
            return data
        monkeypatch.setattr(agentstate.os, "pread", counting)
        fresh = AgentWatch(ctx, remote_every=0)
        fresh.look(seen)
        assert [s.message for s in fresh.recent("agent-hostile")] == ["at the end of a big file"]
        assert 0 < sum(read) <= BUDGET + 4096
        read.clear()
        fresh.look(seen)  # nothing changed: a stat, no read of the signals file
        assert sum(read) <= 4096  # the status line only
        in_agent(isolated, "agent-hostile", "symposium-signal attention 'after the big file'")
        fresh.look(seen)
        assert fresh.views["agent-hostile"].calling.message == "after the big file"
        # and the lists still list it, with the others
        listing = with_agents(ctx, lifecycle.list())
        assert next(t for t in listing.taskspaces if t.id == "agent-hostile").agent.needs_attention
    finally:
        discard(lifecycle, "agent-hostile")


def test_the_output_log_is_rotated_and_bounded(isolated, images):
    """The agent's terminal output is logged in two files of at most the limit (plus a block),
    however much it prints, and nothing is lost at a rotation: a throwaway agent container with a
    small limit, printing 4,000 lines at once."""
    image = images["agent"].image
    name = "agent-log-rotation"
    isolated.cli("rm", "-f", name, check=False)
    isolated.cli("run", "-d", "--name", name, "-e", "SYMPOSIUM_AGENT_LOG_BYTES=16384",
                 "-e", "SYMPOSIUM_AGENT_ARGV=sh -c 'seq 1 4000 | sed s/^/line-/; sleep 600'",
                 image)
    try:
        def sizes() -> list[int]:
            out = isolated.cli("exec", name, "sh", "-c", "stat -c %s /agent/state/logs/agent-output.log*",
                               check=False).stdout
            return [int(n) for n in out.split()]
        until(lambda: "line-4000" in isolated.cli("exec", name, "sh", "-c",
                                                  "cat /agent/state/logs/agent-output.log 2>/dev/null",
                                                  check=False).stdout, 60, "the last line in the log", every=1.0)
        found = sizes()
        assert len(found) == 2 and all(size <= 16384 + 4096 for size in found), found
        kept = isolated.cli("exec", name, "sh", "-c", "cat /agent/state/logs/agent-output.log.1 "
                            "/agent/state/logs/agent-output.log").stdout.split()
        numbers = [int(word.removeprefix("line-")) for word in kept if word.startswith("line-")]
        assert numbers == list(range(numbers[0], 4001)) and numbers[0] > 1  # the newest, none lost
    finally:
        isolated.cli("rm", "-f", "-t", "0", name, check=False)
