"""The agent's state files, read for core.agent, and keys typed into its session.

The agent owns /agent/state: any name there may be a link, a FIFO or a huge file. On this machine
the files are read from the state volume's folder with no engine call: every step is opened with
O_NOFOLLOW relative to the one before, only regular files are read, and never more than a budget.
Another machine's are read by one command in the agent container, as the agent's own user (so it
reads nothing the agent could not), with the same rules.
"""

from __future__ import annotations

import base64
import os
import stat
import threading
import time

from symposium_tui.backends.podman.specs import PodmanEngine
from symposium_tui.core import labels as L
from symposium_tui.core.agent import SESSION, SOCKET, STATE_DIR
from symposium_tui.core.backend import AgentFiles, SignalCursor
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.ids import container_name, volume_name
from symposium_tui.core.taskspace import CONTAINER_UID

STATUS_BYTES = 4096
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

# $1 inode and $2 offset of the cursor (0 0: none), $3 the budget. Prints four lines: the status
# (base64), the output log's change time, the signals file's "inode size start" and its new bytes
# (base64); an empty line where a file is missing, a link or not a regular file.
REMOTE_SCRIPT = r"""
cd /agent/state 2>/dev/null || exit 0
plain() { [ -f "$1" ] && [ ! -L "$1" ]; }
if [ ! -L logs ] && plain logs/agent.status; then head -c 4096 -- logs/agent.status | base64 -w0; fi; echo
if [ ! -L logs ] && plain logs/agent-output.log; then stat -c %Y -- logs/agent-output.log; else echo; fi
if plain signals.jsonl; then
    set -- "$1" "$2" "$3" $(stat -c '%i %s' -- signals.jsonl)
    start=$2
    if [ "$4" != "$1" ] || [ "$5" -lt "$2" ]; then start=$(( $5 > $3 ? $5 - $3 : 0 )); fi
    echo "$4 $5 $start"
    tail -c +$((start + 1)) -- signals.jsonl | head -c "$3" | base64 -w0; echo
else
    echo; echo
fi
"""


def whole_lines(data: bytes, start: int, fresh: bool, budget: int) -> tuple[bytes, int]:
    """The whole lines of DATA (read at START) and how many bytes of it are consumed. A read from
    the middle of a file drops its first, partial line; a line longer than the budget is skipped."""
    skipped = 0
    if fresh and start > 0:
        first = data.find(b"\n")
        if first < 0:
            return b"", len(data)
        skipped = first + 1
        data = data[skipped:]
    end = data.rfind(b"\n")
    if end < 0:
        return b"", skipped + (len(data) if len(data) >= budget else 0)
    return data[:end + 1], skipped + end + 1


RELIST = 5.0


class AgentState:
    def __init__(self, engine: PodmanEngine) -> None:
        self.engine = engine
        self._mounts: dict[str, str] = {}
        self._listed = -RELIST  # when the state volumes were last listed (time.monotonic)
        self._lock = threading.Lock()

    def read(self, taskspace: str, cursor: SignalCursor | None, budget: int) -> AgentFiles:
        if self.engine.local:
            return self._read_here(taskspace, cursor, budget)
        return self._read_there(taskspace, cursor, budget)

    # -- on this machine: the volume's folder -------------------------------------------------
    def _mountpoint(self, taskspace: str) -> str | None:
        name = volume_name(taskspace, "agent-state")
        with self._lock:
            # One listing for all: a new taskspace, or the first read. One without a state volume
            # (being made, or not ours to read) waits for the next listing, at most one every
            # RELIST seconds: not a listing per taskspace per tick.
            if name not in self._mounts and time.monotonic() - self._listed >= RELIST:
                self._listed = time.monotonic()
                for volume in self.engine.volumes({L.ROLE: "agent-state"}):
                    path = volume.mountpoint
                    if path.startswith("/") and "/../" not in path + "/" and "\0" not in path:
                        self._mounts[volume.name] = path
            return self._mounts.get(name)

    def _read_here(self, taskspace: str, cursor: SignalCursor | None, budget: int) -> AgentFiles:
        mountpoint = self._mountpoint(taskspace)
        if mountpoint is None:
            return AgentFiles()
        try:
            root = os.open(mountpoint, _DIR)
        except OSError:
            with self._lock:
                self._mounts.pop(volume_name(taskspace, "agent-state"), None)  # gone: look again next time
            return AgentFiles()
        try:
            status, output_at = None, None
            logs = _open_dir(root, "logs")
            if logs is not None:
                try:
                    status = _read(logs, "agent.status", 0, STATUS_BYTES)
                    if (st := _regular(logs, "agent-output.log")) is not None:
                        output_at = st.st_mtime
                finally:
                    os.close(logs)
            signals, new, fresh = _signals_here(root, cursor, budget)
            return AgentFiles(status, output_at, signals, new, fresh)
        finally:
            os.close(root)

    # -- another machine: one command in the agent container ----------------------------------
    def _read_there(self, taskspace: str, cursor: SignalCursor | None, budget: int) -> AgentFiles:
        inode, offset = (cursor.inode, cursor.offset) if cursor else (0, 0)
        result = self.engine.exec(container_name(taskspace, "agent"),
                                  ["sh", "-c", REMOTE_SCRIPT, "sh", str(inode), str(offset), str(budget)],
                                  user=str(CONTAINER_UID))
        lines = result.stdout.split("\n")
        if result.exit_code != 0 or len(lines) < 4:
            return AgentFiles()
        status = _b64(lines[0])[:STATUS_BYTES] or None
        output_at = float(lines[1]) if lines[1].isdigit() and len(lines[1]) <= 12 else None
        words = lines[2].split()
        if len(words) != 3 or not all(w.isdigit() and len(w) <= 20 for w in words):
            return AgentFiles(status, output_at)
        ino, size, start = (int(w) for w in words)
        same = cursor is not None and cursor.inode == ino and size >= cursor.offset
        fresh = not same
        data = _b64(lines[3])[:budget]
        chunk, consumed = whole_lines(data, start, fresh, budget)
        return AgentFiles(status, output_at, chunk, SignalCursor(ino, start + consumed, size, 0.0), fresh)

    # -- typing into the session --------------------------------------------------------------
    def send(self, taskspace: str, text: str, enter: bool) -> None:
        agent = container_name(taskspace, "agent")
        tmux = ["tmux", "-S", SOCKET]
        steps = ([[*tmux, "send-keys", "-t", SESSION, "-l", "--", text]] if text else []) + \
            ([[*tmux, "send-keys", "-t", SESSION, "Enter"]] if enter else [])
        for command in steps:
            result = self.engine.exec(agent, command, user=str(CONTAINER_UID))
            if result.exit_code != 0:
                why = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no answer"]
                raise SymposiumError(f"could not type into the agent's session of {taskspace}: "
                                     f"{why[0][:200]}", hint=f"is it running? symposium-tui ls; "
                                     f"the session is tmux on {SOCKET} in its agent container")


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except ValueError:
        return b""


def _open_dir(parent: int, name: str) -> int | None:
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except OSError:
        return None


def _regular(parent: int, name: str) -> os.stat_result | None:
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _read(parent: int, name: str, start: int, length: int) -> bytes | None:
    """At most LENGTH bytes from START of a regular file, never through a link."""
    try:
        fd = os.open(name, _FILE, dir_fd=parent)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.pread(fd, length, start)
    except OSError:
        return None
    finally:
        os.close(fd)


def _signals_here(root: int, cursor: SignalCursor | None, budget: int) -> tuple[bytes, SignalCursor | None, bool]:
    """New whole lines of signals.jsonl: a stat when nothing changed, else one bounded read."""
    st = _regular(root, "signals.jsonl")
    if st is None:
        return b"", None, False
    same = cursor is not None and cursor.inode == st.st_ino and st.st_size >= cursor.offset
    if same and cursor is not None and cursor.offset == st.st_size:
        return b"", SignalCursor(st.st_ino, cursor.offset, st.st_size, st.st_mtime), False
    start = cursor.offset if same and cursor is not None else max(0, st.st_size - budget)
    data = _read(root, "signals.jsonl", start, min(budget, st.st_size - start)) or b""
    chunk, consumed = whole_lines(data, start, not same, budget)
    return chunk, SignalCursor(st.st_ino, start + consumed, st.st_size, st.st_mtime), not same
