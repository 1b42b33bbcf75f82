"""The agent in its taskspace, as core knows it: what runs (command, environment, restart rule),
how that travels to the agent container, and what its state files and signals say.

The agent container's supervisor (images/agent: symposium-supervise, symposium-agent-run) keeps a
tmux session with the agent in it and writes two files under /agent/state/logs: agent.status (one
line of key=value words) and exits.jsonl; the agent's own `symposium-signal` appends JSON lines to
/agent/state/signals.jsonl. The agent owns that folder: everything read from it is parsed here as
untrusted text, a line that is not what the supervisor writes is skipped.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from symposium_tui.core import labels as L
from symposium_tui.core.errors import UsageError

STATE_DIR = "/agent/state"
TASK_PATH = f"{STATE_DIR}/task.md"
SOCKET = f"{STATE_DIR}/tmux/agent.sock"
SESSION = "agent"
OUTPUT_LOG = f"{STATE_DIR}/logs/agent-output.log"
RESTART_RULES = ("on-failure", "always", "never")
SIGNAL_KINDS = ("progress", "attention", "done")
CALLING_KINDS = ("attention", "done")  # a signal of these waits for the person
MAX_TASK_BYTES = 256 * 1024
MAX_ARGS, MAX_ARG = 64, 4096
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
AUTH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
AUTH_PREFIX = "@auth/"
# Names the supervisor and the product set: the agent's environment may not change them.
RESERVED_ENV = ("HOME", "USER", "LOGNAME", "SHELL", "PATH", "TMUX", "TERM")


@dataclass(frozen=True)
class AgentSpec:
    """What the agent container runs: argv ("" — none: the session holds a shell), its extra
    environment (a value, or @auth/NAME: read from the agent's auth/NAME when it starts), the
    restart rule and how many quick failures in a row it is restarted after."""

    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    restart: str = "on-failure"
    restart_limit: int = 5
    idle_after: float = 300.0  # seconds without output before a running agent is called idle

    @property
    def auth_names(self) -> tuple[str, ...]:
        return tuple(v[len(AUTH_PREFIX):] for _, v in self.env if v.startswith(AUTH_PREFIX))

    def labels(self) -> dict[str, str]:
        """Carried on the pod and the agent container (and to the next pod of a level change)."""
        return {L.AGENT_COMMAND: json.dumps(list(self.command)), L.AGENT_ENV: json.dumps(dict(self.env)),
                L.AGENT_RESTART: f"{self.restart}:{self.restart_limit}"}

    def describe(self) -> str:
        return shlex.join(self.command) if self.command else "none (the session holds a shell)"


def command_problem(command: object) -> str | None:
    if not isinstance(command, (list, tuple)) or not all(isinstance(a, str) for a in command):
        return "a list of words, such as [claude, --continue]"
    if len(command) > MAX_ARGS or any(len(a) > MAX_ARG or "\0" in a for a in command):
        return f"at most {MAX_ARGS} words of at most {MAX_ARG} characters, without NUL"
    if command and not command[0].strip():
        return "a command whose first word names a program"
    return None


def env_problem(name: object, value: object) -> str | None:
    if not isinstance(name, str) or not ENV_NAME.match(name) or name in RESERVED_ENV \
            or name.startswith("SYMPOSIUM_"):
        return (f"an environment variable name (letters, digits, _; not {', '.join(RESERVED_ENV)} "
                "or SYMPOSIUM_*)")
    if not isinstance(value, str) or len(value) > MAX_ARG or "\0" in value:
        return f"text of at most {MAX_ARG} characters, or {AUTH_PREFIX}NAME"
    if value.startswith(AUTH_PREFIX) and not AUTH_NAME.match(value[len(AUTH_PREFIX):]):
        return f"{AUTH_PREFIX}NAME, NAME a file in the agent's auth folder (letters, digits, . _ -)"
    return None


def parse_command_line(text: str) -> tuple[str, ...]:
    """`create --agent-command "claude --continue"`: shell words; "" is no agent (a shell)."""
    try:
        words = tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"--agent-command: {exc} (write it as shell words, quoted as in sh)") from None
    if (problem := command_problem(list(words))) is not None:
        raise UsageError(f"--agent-command: expected {problem}")
    return words


def with_task(command: Iterable[str]) -> tuple[str, ...]:
    return tuple(word.replace("{task}", TASK_PATH) for word in command)


def from_labels(labels: Mapping[str, str], idle_after: float = AgentSpec.idle_after) -> AgentSpec:
    """The spec a pod carries; labels an engine gave back are checked again (a spec that does not
    parse is no agent: a shell)."""
    try:
        command = json.loads(labels.get(L.AGENT_COMMAND) or "[]")
        env = json.loads(labels.get(L.AGENT_ENV) or "{}")
        rule, _, limit = (labels.get(L.AGENT_RESTART) or "on-failure:5").partition(":")
    except (ValueError, TypeError):
        return AgentSpec(idle_after=idle_after)
    if command_problem(command) is not None or not isinstance(env, dict) \
            or any(env_problem(k, v) for k, v in env.items()) or rule not in RESTART_RULES \
            or not limit.isdigit() or not 0 <= int(limit) <= 100:
        return AgentSpec(idle_after=idle_after)
    return AgentSpec(tuple(command), tuple(env.items()), rule, int(limit), idle_after)


def container_env(spec: AgentSpec) -> dict[str, str]:
    """The agent container's environment that tells its supervisor what to run: shell words and
    export lines made with shlex.quote (it evals them); secrets stay files until the agent starts."""
    exports = []
    for name, value in spec.env:
        if value.startswith(AUTH_PREFIX):
            exports.append(f'export {name}="$(cat -- /agent/auth/{value[len(AUTH_PREFIX):]})"')
        else:
            exports.append(f"export {name}={shlex.quote(value)}")
    env = {"SYMPOSIUM_AGENT_RESTART": spec.restart, "SYMPOSIUM_AGENT_RESTART_LIMIT": str(spec.restart_limit)}
    if spec.command:
        env["SYMPOSIUM_AGENT_ARGV"] = shlex.join(with_task(spec.command))
    if exports:
        env["SYMPOSIUM_AGENT_ENV"] = "\n".join(exports)
    return env


def read_task(text: str | None, file: str | None) -> str | None:
    """`--task TEXT` or `--task-file FILE` (one of them), as the text kept at TASK_PATH."""
    if text is not None and file is not None:
        raise UsageError("give the task as --task TEXT or --task-file FILE, not both")
    if file is not None:
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_TASK_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"--task-file {file}: cannot read: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"--task-file {file}: not UTF-8 text") from None
    if text is None:
        return None
    if len(text.encode()) > MAX_TASK_BYTES:
        raise UsageError(f"the task is over {MAX_TASK_BYTES // 1024} KiB")
    if "\0" in text:
        raise UsageError("the task contains a NUL character")
    return text if text.endswith("\n") else text + "\n"


# -- what the state files say ------------------------------------------------------------------
_WORD = re.compile(r"([a-z]+)=([A-Za-z0-9_.-]{1,40})\Z")
_STATES = ("running", "restarting", "exited", "gave-up", "none")
REASONS = {"failing": "kept failing", "not-found": "command not found or not executable",
           "env": "its environment could not be read"}


@dataclass(frozen=True)
class AgentStatus:
    """logs/agent.status, as the supervisor writes it: `state=running since=T restarts=N`."""

    state: str = "none"
    code: int | None = None
    since: float | None = None  # running since
    at: float | None = None  # when it last exited
    next: float | None = None  # when it is restarted (restarting)
    restarts: int = 0
    reason: str = ""


def parse_status(data: bytes | None) -> AgentStatus | None:
    if not data:
        return None
    line = data.decode("utf-8", "replace").split("\n", 1)[0]
    words = {}
    for word in line.split()[:12]:
        if (match := _WORD.match(word)) is None:
            return None
        words[match.group(1)] = match.group(2)
    if words.get("state") not in _STATES:
        return None

    def number(key: str) -> float | None:
        try:
            value = float(words[key])
        except (KeyError, ValueError):
            return None
        return value if math.isfinite(value) and 0 <= value < 1e11 else None

    code = words.get("code", "")
    restarts = words.get("restarts", "0")
    return AgentStatus(words["state"], int(code) if code.isdigit() and len(code) <= 3 else None,
                       number("since"), number("at"), number("next"),
                       int(restarts) if restarts.isdigit() and len(restarts) <= 4 else 0,
                       REASONS.get(words.get("reason", ""), ""))


@dataclass(frozen=True)
class Signal:
    time: float
    kind: str  # progress, attention, done
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"time": self.time, "kind": self.kind, "message": self.message}


def clean_text(text: str, limit: int = 500) -> str:
    """One line of printable text: what came from a taskspace, never a terminal's escape."""
    return "".join(c if c.isprintable() else " " for c in text[:limit]).strip()


def parse_signals(data: bytes) -> list[Signal]:
    """Whole lines of signals.jsonl; a line that is not one signal is skipped."""
    found = []
    for raw in data.split(b"\n"):
        if not raw.strip() or len(raw) > 4096:
            continue
        try:
            item = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("kind") not in SIGNAL_KINDS:
            continue
        time, message = item.get("time"), item.get("message", "")
        if isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time) \
                or not 0 <= time < 1e11 or not isinstance(message, str):
            continue
        found.append(Signal(float(time), item["kind"], clean_text(message)))
    return found


@dataclass(frozen=True)
class AgentView:
    """One taskspace's agent as lists show it."""

    state: str  # running, idle, exited (code N), restarting, gave up (reason), none
    message: str = ""  # the latest signal's message
    latest: Signal | None = None
    calling: Signal | None = None  # the newest attention/done signal the person has not seen
    recent: tuple[Signal, ...] = field(default=(), hash=False)
    command: str = ""
    output_at: float | None = None  # when it last printed (its output log's time)
    since: float | None = None  # when its supervisor last started it

    @property
    def needs_attention(self) -> bool:
        return self.calling is not None

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "message": self.message or None,
                "needs_attention": self.needs_attention,
                "attention": self.calling.as_dict() if self.calling else None,
                "latest_signal": self.latest.as_dict() if self.latest else None,
                "command": self.command or None}

    def text(self) -> str:
        """For a column: what it asks of the person (`! attention: …`), else its state and, while
        it runs, its latest message."""
        if self.calling is not None:
            return f"! {self.calling.kind}" + (f": {self.calling.message}" if self.calling.message else "")
        if self.message and self.state in ("running", "idle"):
            return f"{self.state} · {self.message}"
        return self.state


NO_AGENT = AgentView("none")


def agent_state(status: AgentStatus | None, running: bool, output_at: float | None, now: float,
                idle_after: float) -> str:
    if not running or status is None:
        return "none"
    if status.state == "running":
        last = max(t for t in (output_at, status.since, 0.0) if t is not None)
        return "idle" if last and now - last >= idle_after else "running"
    if status.state == "exited":
        return f"exited (code {status.code})" if status.code is not None else "exited"
    if status.state == "gave-up":
        reason = status.reason or "kept failing"
        return f"gave up ({reason}{f', code {status.code}' if status.code is not None else ''})"
    return status.state


def view(status: AgentStatus | None, running: bool, output_at: float | None, signals: Iterable[Signal],
         seen: float, now: float, spec: AgentSpec) -> AgentView:
    """`seen`: the time of the newest calling signal the person acknowledged (attach, a key)."""
    recent = tuple(signals)
    latest = recent[-1] if recent else None
    calling = next((s for s in reversed(recent) if s.kind in CALLING_KINDS), None)
    if calling is not None and calling.time <= seen:
        calling = None
    return AgentView(agent_state(status, running, output_at, now, spec.idle_after),
                     latest.message if latest else "", latest, calling, recent[-50:],
                     shlex.join(spec.command) if spec.command else "", output_at,
                     status.since if status is not None and running else None)
