"""Reaching a port inside a taskspace from this machine's 127.0.0.1, through the taskspace's SSH
(`forward`, and the dashboard's `p`): `ssh -N -L 127.0.0.1:LOCAL:127.0.0.1:PORT`, nothing published
beyond loopback. The dashboard keeps its forwards while it runs (Forwards) and ends them on quit.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.taskspace import CONTAINER_UID

READY_SECONDS = 15.0  # how long a new forward has to answer on its local port
LISTEN_COMMAND = ("/bin/cat", "/proc/net/tcp", "/proc/net/tcp6")


def check_ports(port: int, local: int) -> None:
    for name, value in (("PORT", port), ("--local", local)):
        if not 0 < value < 65536:
            raise UsageError(f"{name} {value}: a TCP port is 1..65535")


def local_port_taken(port: int) -> str | None:
    """Why 127.0.0.1:PORT cannot be listened on here (None: it is free). As ssh binds it: with
    SO_REUSEADDR, so the closed connections of a forward that just ended do not count."""
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        probe.close()
    return None


def forward_argv(ssh_config: str, alias: str, local: int, port: int) -> list[str]:
    return ["ssh", "-F", ssh_config, "-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
            "-L", f"127.0.0.1:{local}:127.0.0.1:{port}", "--", alias]


def listening(backend, member: str) -> list:  # noqa: ANN001 - a TaskspaceBackend; list[ports.Listening]
    """What listens in a running container's pod (core.ports), read through the engine."""
    from symposium_tui.core.display import printable
    from symposium_tui.core.ports import parse_listening

    done = backend.run_in(member, LISTEN_COMMAND, str(CONTAINER_UID))
    if done.exit_code != 0 and not done.stdout:
        raise SymposiumError(f"could not read what listens in {member}: {printable(done.stderr.strip()[:300])}")
    return parse_listening(done.stdout)


@dataclass
class Forward:
    host: str
    taskspace: str
    port: int
    local: int
    proc: subprocess.Popen = field(repr=False)
    errors: IO[str] = field(repr=False)  # what ssh said
    stopped: bool = False  # ended by us, not by itself

    def said(self) -> str:
        """ssh's last words (once it ended), its file closed."""
        try:
            self.errors.seek(0)
            return self.errors.read()[-2000:].strip()[-300:]
        except (OSError, ValueError):
            return ""
        finally:
            self.errors.close()

    def describe(self) -> str:
        return f"127.0.0.1:{self.local} → {self.taskspace}:{self.port}"


class Forwards:
    """The dashboard's forwards: started, watched (one that ends by itself is told through
    `ended`), ended on quit."""

    def __init__(self, ended: Callable[[Forward, str], None]) -> None:
        self.ended = ended
        self._lock = threading.Lock()
        self._all: list[Forward] = []

    def start(self, host: str, taskspace: str, port: int, local: int, argv: list[str]) -> Forward:
        """Started and answering on its local port, or an error saying why not."""
        check_ports(port, local)
        taken = local_port_taken(local)
        if taken:
            raise SymposiumError(f"127.0.0.1:{local} is taken on this machine ({taken}): choose another local port")
        errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - a file, not a pipe: ssh never blocks on it
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                start_new_session=True)
        forward = Forward(host, taskspace, port, local, proc, errors)
        deadline = time.monotonic() + READY_SECONDS
        while not _answers(local):
            if proc.poll() is not None or time.monotonic() > deadline:
                _end(proc)
                why = forward.said()
                raise SymposiumError(f"the forward through SSH did not come up: {why or f'exit code {proc.returncode}'}")
            time.sleep(0.1)
        with self._lock:
            self._all.append(forward)
        threading.Thread(target=self._watch, args=(forward,), name=f"forward-{local}", daemon=True).start()
        return forward

    def _watch(self, forward: Forward) -> None:
        code = forward.proc.wait()
        with self._lock:
            if forward in self._all:
                self._all.remove(forward)
        why = forward.said()
        if not forward.stopped:
            self.ended(forward, why or f"ssh ended with exit code {code}")

    def of(self, host: str, taskspace: str) -> list[Forward]:
        with self._lock:
            return [f for f in self._all if f.host == host and f.taskspace == taskspace]

    def all(self) -> list[Forward]:
        with self._lock:
            return list(self._all)

    def stop(self, forwards: list[Forward]) -> None:
        for forward in forwards:
            forward.stopped = True
            _end(forward.proc)

    def stop_all(self) -> None:
        self.stop(self.all())


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
