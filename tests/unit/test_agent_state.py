"""The agent's spec, state and signals as core reads them (issue #20): the spec travels as labels
and environment the supervisor evals safely; the state folder's files are parsed as untrusted
text; the reader on this machine never follows a link, never opens a FIFO, never reads more than
its budget, and reads nothing when nothing changed; only signals after the first look are news.
(The same on the real engine: tests/engine/test_agent.py.)"""

from __future__ import annotations

import json
import os
import subprocess
from types import SimpleNamespace

import pytest

from symposium_tui.backends.podman.agentstate import AgentState, whole_lines
from symposium_tui.core import agent as A
from symposium_tui.core.config import load_settings
from symposium_tui.core.errors import ConfigError, UsageError
from symposium_tui.core.models import VolumeInfo
from symposium_tui.core.services.agents import AgentWatch, Seen


def test_the_spec_travels_as_labels_and_comes_back_checked():
    spec = A.AgentSpec(("claude", "--continue", "{task}"), (("TOKEN", "@auth/anthropic-key"), ("MODE", "it's fast")),
                       "always", 3)
    assert A.from_labels(spec.labels(), spec.idle_after) == spec
    bad = spec.labels() | {"io.symposium.agent.env": json.dumps({"PATH": "/evil"})}
    assert A.from_labels(bad) == A.AgentSpec()  # a reserved name from an engine: no agent, a shell
    assert A.from_labels({"io.symposium.agent.command": "not json"}) == A.AgentSpec()
    assert A.from_labels({"io.symposium.agent.restart": "sometimes:5"}) == A.AgentSpec()


def test_the_environment_the_supervisor_evals_is_quoted_and_keeps_secrets_in_files(tmp_path):
    spec = A.AgentSpec(("printf", "%s|", "{task}", "a b", "$(touch /tmp/x)", "'"),
                       (("TOKEN", "@auth/key"), ("PLAIN", "$(id) `id` 'q'")))
    env = A.container_env(spec)
    assert "secret" not in json.dumps(env)  # the secret's value is nowhere in the container's config
    (tmp_path / "key").write_text("secret-value")
    script = (f'eval "set -- $SYMPOSIUM_AGENT_ARGV"\n'
              f'eval "$(printf %s "$SYMPOSIUM_AGENT_ENV" | sed "s#/agent/auth#{tmp_path}#")"\n'
              'printf "%s|" "$@"; printf "\\n%s\\n%s\\n" "$TOKEN" "$PLAIN"')
    out = subprocess.run(["sh", "-c", script], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "printf|%s||/agent/state/task.md|a b|$(touch /tmp/x)|'|"
    assert out[1:] == ["secret-value", "$(id) `id` 'q'"]


def test_agent_command_lines_and_tasks_are_checked(tmp_path):
    assert A.parse_command_line("claude --continue 'a b'") == ("claude", "--continue", "a b")
    assert A.parse_command_line("") == ()
    with pytest.raises(UsageError, match="shell words"):
        A.parse_command_line("claude 'unterminated")
    assert A.read_task("fix it", None) == "fix it\n"
    (tmp_path / "task.md").write_text("# Task\nfix it\n")
    assert A.read_task(None, str(tmp_path / "task.md")) == "# Task\nfix it\n"
    with pytest.raises(UsageError, match="not both"):
        A.read_task("a", str(tmp_path / "task.md"))
    (tmp_path / "big.md").write_bytes(b"x" * (A.MAX_TASK_BYTES + 1))
    with pytest.raises(UsageError, match="over 256 KiB"):
        A.read_task(None, str(tmp_path / "big.md"))
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError, match="not UTF-8"):
        A.read_task(None, str(tmp_path / "bin.md"))
    with pytest.raises(UsageError, match="cannot read"):
        A.read_task(None, str(tmp_path / "missing.md"))


@pytest.mark.parametrize(("text", "line", "says"), [
    ("agent:\n  command: claude\n", 2, "agent.command: expected a list of words"),
    ("agent:\n  command: [claude]\n  restart: sometimes\n", 3, "agent.restart: expected one of on-failure"),
    ("agent:\n  env:\n    PATH: /x\n", 3, "agent.env.PATH: expected an environment variable name"),
    ("agent:\n  env:\n    KEY: '@auth/../../etc/shadow'\n", 3, "agent.env.KEY: expected @auth/NAME"),
    ("agent:\n  restart_limit: -1\n", 2, "agent.restart_limit: expected a whole number"),
    ("agent:\n  idle_after: soon\n", 2, "agent.idle_after: expected a duration"),
    ("agent:\n  colour: red\n", 2, "agent.colour: expected one of command, env"),
])
def test_the_agent_section_of_config_yaml_is_checked_with_its_line(tmp_path, text, line, says):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"{path}:{line}: {says}" in caught.value.message


def test_a_good_agent_section_is_read(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("agent:\n  command: [claude, --continue]\n  env:\n    ANTHROPIC_API_KEY: '@auth/anthropic-key'\n"
                    "  restart: always\n  restart_limit: 2\n  idle_after: 90s\n")
    spec = load_settings(path, environ={}).agent
    assert spec == A.AgentSpec(("claude", "--continue"), (("ANTHROPIC_API_KEY", "@auth/anthropic-key"),),
                               "always", 2, 90.0)
    assert spec.auth_names == ("anthropic-key",)


def test_status_lines_and_signals_are_parsed_as_untrusted_text():
    assert A.parse_status(b"state=gave-up code=5 at=100 reason=failing restarts=5\n") == \
        A.AgentStatus("gave-up", 5, None, 100.0, None, 5, "kept failing")
    for bad in (b"state=hacked", b"state=running since=$(id)", b"\x1b[2J", b"state=running " + b"x=1 " * 20, b""):
        status = A.parse_status(bad)
        assert status is None or status.state in ("running",)
    data = (b'{"time": 10, "kind": "progress", "message": "step \\u001b[31m one"}\n'
            b'{"time": 1e300, "kind": "attention", "message": "far future"}\n'
            b'{"time": 11, "kind": "shout", "message": "unknown kind"}\n'
            b'not json\n[1, 2]\n'
            b'{"time": 12, "kind": "done", "message": ' + b'"' + b"x" * 600 + b'"}\n'
            b'{"time": true, "kind": "done"}\n')
    signals = A.parse_signals(data)
    assert [(s.time, s.kind) for s in signals] == [(10.0, "progress"), (12.0, "done")]
    assert signals[0].message == "step  [31m one" and len(signals[1].message) == 500


def test_the_state_an_agent_is_in():
    running = A.AgentStatus("running", since=100.0)
    spec = A.AgentSpec(idle_after=60.0)
    assert A.view(running, True, 150.0, [], 0.0, 200.0, spec).state == "running"
    assert A.view(running, True, 120.0, [], 0.0, 200.0, spec).state == "idle"  # no output for 80 s
    assert A.view(running, False, 150.0, [], 0.0, 200.0, spec).state == "none"  # not running
    assert A.view(A.AgentStatus("exited", 0), True, None, [], 0.0, 200.0, spec).state == "exited (code 0)"
    assert A.view(A.AgentStatus("restarting", 3), True, None, [], 0.0, 200.0, spec).state == "restarting"
    gave_up = A.view(A.AgentStatus("gave-up", 127, reason=A.REASONS["not-found"]), True, None, [], 0.0, 0.0, spec)
    assert gave_up.state == "gave up (command not found or not executable, code 127)"
    calls = [A.Signal(110.0, "attention", "need review"), A.Signal(120.0, "progress", "going on")]
    asking = A.view(running, True, 150.0, calls, 0.0, 160.0, spec)
    assert asking.needs_attention and asking.text() == "! attention: need review"
    assert asking.message == "going on"
    seen = A.view(running, True, 150.0, calls, 110.0, 160.0, spec)
    assert not seen.needs_attention and seen.text() == "running · going on"


def test_whole_lines_from_a_read_anywhere_in_a_file():
    assert whole_lines(b"a\nb\npart", 0, False, 100) == (b"a\nb\n", 4)
    assert whole_lines(b"tail-of-a\nb\n", 50, True, 100) == (b"b\n", 12)  # mid-file: the first line is partial
    assert whole_lines(b"x" * 100, 0, False, 100) == (b"", 100)  # a line over the budget is skipped
    assert whole_lines(b"xx", 0, False, 100) == (b"", 0)  # a line still being written waits


class StateVolume:
    """A state volume's folder on this machine, as the engine names it."""

    def __init__(self, root) -> None:
        self.root = root
        (root / "logs").mkdir(parents=True)
        self.calls = 0

    def volumes(self, selector=None):
        self.calls += 1
        return [VolumeInfo("taskspace-t1-agent-state", str(self.root), {"io.symposium.role": "agent-state"})]

    def signal(self, time: float, kind: str, message: str) -> None:
        with open(self.root / "signals.jsonl", "a") as handle:
            handle.write(json.dumps({"time": time, "kind": kind, "message": message}) + "\n")


@pytest.fixture
def volume(tmp_path):
    return StateVolume(tmp_path / "_data")


def watch_of(volume) -> AgentWatch:
    engine = volume
    engine.local = True
    backend = SimpleNamespace(local=True, read_agent=AgentState(engine).read)
    ctx = SimpleNamespace(backend=backend, settings=SimpleNamespace(agent=A.AgentSpec()),
                          registry=SimpleNamespace(read=lambda: {}))
    return AgentWatch(ctx, clock=lambda: 1000.0)


SEEN = [Seen("t1", True, {})]


def test_only_signals_after_the_first_look_are_news_and_a_replaced_file_is_read_again(volume):
    volume.signal(1.0, "progress", "before")
    watch = watch_of(volume)
    assert watch.look(SEEN) == []  # history
    assert [s.message for s in watch.recent("t1")] == ["before"]
    volume.signal(2.0, "attention", "new one")
    assert [(t, s.message) for t, s in watch.look(SEEN)] == [("t1", "new one")]
    assert watch.look(SEEN) == []  # nothing more
    # kept short by symposium-signal: a new file with the newest lines, one of them new
    (volume.root / "signals.jsonl").unlink()
    volume.signal(2.0, "attention", "new one")
    volume.signal(3.0, "done", "finished")
    assert [s.message for _, s in watch.look(SEEN)] == ["finished"]
    assert volume.calls == 1  # the volume's folder was looked up once


def test_a_file_that_appears_after_the_first_look_is_news(volume):
    watch = watch_of(volume)
    assert watch.look(SEEN) == []
    volume.signal(5.0, "attention", "first ever")
    assert [s.message for _, s in watch.look(SEEN)] == ["first ever"]


def test_links_fifos_and_other_files_in_the_state_folder_are_not_read(volume, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "signals.jsonl").write_text('{"time": 1, "kind": "attention", "message": "HOST FILE"}\n')
    (outside / "agent.status").write_text("state=gave-up code=1\n")
    (volume.root / "signals.jsonl").symlink_to(outside / "signals.jsonl")
    (volume.root / "logs" / "agent.status").symlink_to(outside / "agent.status")
    watch = watch_of(volume)
    watch.look(SEEN)
    assert not watch.recent("t1") and watch.views["t1"].state == "none"
    (volume.root / "signals.jsonl").unlink()
    os.mkfifo(volume.root / "signals.jsonl")
    (volume.root / "logs" / "agent.status").unlink()
    os.mkfifo(volume.root / "logs" / "agent.status")
    watch.look(SEEN)  # returns: a FIFO is never opened
    assert not watch.recent("t1")
    (volume.root / "logs").rename(volume.root / "logs.real")
    (volume.root / "logs").symlink_to(outside)
    watch.look(SEEN)
    assert watch.views["t1"].state == "none"


def test_a_huge_signals_file_costs_one_bounded_read(volume):
    with open(volume.root / "signals.jsonl", "wb") as handle:
        handle.truncate(2**30)  # sparse: one line of a GiB, ended here
        handle.seek(0, 2)
        handle.write(b"\n")
    volume.signal(9.0, "progress", "the last line")
    state = AgentState(SimpleNamespace(local=True, volumes=volume.volumes))
    files = state.read("t1", None, 65536)
    assert A.parse_signals(files.signals)[-1].message == "the last line" and len(files.signals) <= 65536
    again = state.read("t1", files.cursor, 65536)
    assert again.signals == b"" and again.cursor == files.cursor
