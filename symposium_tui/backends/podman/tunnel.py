"""A podman service on another machine, reached through one OpenSSH connection of our own.

podman-py's ssh:// adapter is not used: it turns host key checking off (`StrictHostKeyChecking
no`), waits up to five minutes for its socket and ignores timeouts. Instead one `ssh` master
process per host forwards a private unix socket to the remote podman socket; the engine talks
HTTP to that socket as to a local one. The same master (ControlPath) carries the SSH probes of the
taskspaces' loopback ports on that host (`ssh -W 127.0.0.1:PORT`), which is also the way people
reach them (ProxyJump). Host keys are checked: new ones are pinned in the product's known_hosts
(accept-new), a changed one is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from symposium_tui.core.errors import EngineUnavailable, UsageError
from symposium_tui.core.fsutil import private_dir
from symposium_tui.core.sshconfig import ensure_known_hosts
from symposium_tui.backends.podman.children import die_with_parent

CONNECT_TIMEOUT = 8  # seconds ssh waits for the TCP connection and handshake
ALIVE_INTERVAL = 5  # keepalives: a dead host is noticed within about ALIVE_INTERVAL * 2 s
PROBE_TIMEOUT = 4.0


def _sweep(parent: Path, older_than: float = 120.0) -> None:
    """Remove the directories of tunnels whose process is gone (a process killed with -9 leaves
    them): no forwarded socket in them, and not made a moment ago."""
    now = time.time()
    for directory in parent.glob("ssh-*"):
        try:
            if (directory / "podman.sock").exists() or now - directory.stat().st_mtime < older_than:
                continue
        except OSError:
            continue
        if (directory / "ssh.log").exists() or not any(directory.iterdir()):
            shutil.rmtree(directory, ignore_errors=True)


class SshDestination:
    """ssh://[user@]host[:port]/path/to/podman.sock, checked."""

    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != "ssh" or not parsed.hostname:
            raise UsageError(f"{uri!r}: expected ssh://[user@]host[:port]/path/to/podman.sock")
        try:
            port = parsed.port
        except ValueError:
            raise UsageError(f"{uri!r}: the port is not a number between 1 and 65535") from None
        path = unquote(parsed.path)
        if path in ("", "/"):
            path = ""  # asked of the host when connecting, as podman does (podman 4.3 stores none)
        elif not path.startswith("/"):
            raise UsageError(f"{uri!r}: the remote podman socket's path must be absolute, e.g. "
                             "ssh://core@box/run/podman/podman.sock")
        for part in (parsed.username or "", parsed.hostname, path):
            if part.startswith("-") or any(c.isspace() or not c.isprintable() for c in part):
                raise UsageError(f"{uri!r}: user, host and path must not start with '-' or hold spaces")
        self.user = parsed.username
        self.host = parsed.hostname
        self.port = port or 22
        self.socket_path = path

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def ssh_options(identity: str | None, known_hosts: Path) -> list[str]:
    """The options of every ssh we run against an engine host."""
    options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
               "-o", "StrictHostKeyChecking=accept-new",
               "-o", f"UserKnownHostsFile={known_hosts} ~/.ssh/known_hosts",
               "-o", f"ServerAliveInterval={ALIVE_INTERVAL}", "-o", "ServerAliveCountMax=2"]
    if identity:
        options += ["-o", "IdentitiesOnly=yes", "-i", str(Path(identity).expanduser())]
    return options


class SshTunnel:
    """One ssh master forwarding a local socket to the remote podman socket; restarted on demand."""

    def __init__(self, uri: str, *, identity: str | None, known_hosts: Path, runtime_dir: Path,
                 name: str = "") -> None:
        self.destination = SshDestination(uri)
        self.remote_uri = uri
        self.identity = identity
        self.known_hosts = known_hosts
        self.name = name or self.destination.host
        # unix socket paths must fit in 108 bytes: keep the directory short; and ours alone (a
        # runtime dir someone else made could have its entries swapped): else the temp dir.
        parent = runtime_dir if len(str(runtime_dir)) < 70 and private_dir(runtime_dir) else None
        _sweep(Path(parent or tempfile.gettempdir()))
        self.dir = Path(tempfile.mkdtemp(prefix="ssh-", dir=parent))
        self.local_socket = self.dir / "podman.sock"
        self.control = self.dir / "ctl"
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.last_error = ""

    @property
    def uri(self) -> str:
        return f"unix://{self.local_socket}"

    def _base(self) -> list[str]:
        ssh = shutil.which("ssh")
        if ssh is None:
            raise EngineUnavailable("ssh is not installed: remote podman connections need OpenSSH's "
                                    "client", hint="apt-get install openssh-client")
        try:
            ensure_known_hosts(self.known_hosts)
        except OSError as exc:
            raise EngineUnavailable(f"cannot prepare {self.known_hosts} for ssh: {exc.strerror or exc}") from exc
        return [ssh, "-p", str(self.destination.port), *ssh_options(self.identity, self.known_hosts)]

    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None and self.local_socket.exists()

    def start(self) -> SshTunnel:
        with self._lock:
            if self.alive():
                return self
            self._stop_locked()
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # swept while the host was away
            if not self.destination.socket_path:
                self.destination.socket_path = self._remote_socket_path()
            cmd = [*self._base(), "-N", "-M", "-S", str(self.control),
                   "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes",
                   "-L", f"{self.local_socket}:{self.destination.socket_path}",
                   "--", self.destination.login]
            stderr = self.dir / "ssh.log"
            self._proc = self._spawn(cmd, stderr)
            deadline = time.monotonic() + CONNECT_TIMEOUT + 4
            while not self.local_socket.exists():
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    why = self._log_tail(stderr) or (
                        "ssh did not connect in time" if self._proc.poll() is None
                        else f"ssh exited with code {self._proc.returncode}")
                    self._stop_locked()
                    self.last_error = why
                    raise EngineUnavailable(f"host {self.name} ({self.destination.login}:"
                                            f"{self.destination.port}) is unreachable over SSH: {why}")
                time.sleep(0.02)
            self.last_error = ""
            return self

    def _remote_socket_path(self) -> str:
        """The host's own answer, for a connection stored without a socket path."""
        cmd = [*self._base(), "--", self.destination.login,
               "podman info --format '{{.Host.RemoteSocket.Path}}'"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CONNECT_TIMEOUT + 20,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"host {self.name} is unreachable over SSH: {exc}") from exc
        path = proc.stdout.strip().removeprefix("unix://")
        if proc.returncode != 0 or not path.startswith("/"):
            why = (proc.stderr.strip().splitlines() or ["no socket path in its answer"])[-1]
            raise EngineUnavailable(f"host {self.name}: could not ask podman there for its socket: {why}",
                                    hint="give the socket in the URI: ssh://user@host/run/podman/podman.sock")
        return path

    def _spawn(self, cmd: list[str], stderr: Path) -> subprocess.Popen[bytes]:
        """Start ssh from a keeper thread that lives as long as it does: PR_SET_PDEATHSIG fires when
        the forking *thread* ends, and a restart may come from any short-lived worker thread."""
        started = threading.Event()
        box: dict[str, object] = {}

        def keep() -> None:
            try:
                with open(stderr, "wb") as log:
                    box["proc"] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                   stderr=log, preexec_fn=die_with_parent,
                                                   start_new_session=True)
            except OSError as exc:
                box["error"] = exc
            finally:
                started.set()
            proc = box.get("proc")
            if isinstance(proc, subprocess.Popen):
                proc.wait()
        threading.Thread(target=keep, name=f"ssh-{self.name}", daemon=True).start()
        started.wait()
        proc = box.get("proc")
        if not isinstance(proc, subprocess.Popen):
            raise EngineUnavailable(f"cannot run ssh for host {self.name}: {box.get('error')}")
        return proc

    def ensure(self) -> None:
        """Start the master again if it died (the host went away and may be back)."""
        if not self.alive():
            self.start()

    @staticmethod
    def _log_tail(path: Path) -> str:
        try:
            lines = [line for line in path.read_text(errors="replace").splitlines()
                     if line.strip() and not line.startswith("Warning: Permanently added")]
        except OSError:
            return ""
        return " | ".join(lines[-2:])

    def banner(self, port: int, timeout: float = PROBE_TIMEOUT) -> str | None:
        """The SSH greeting on the remote host's 127.0.0.1:PORT, through the master; None if none."""
        if not self.alive():
            return None
        cmd = [*self._base(), "-S", str(self.control), "-o", "ControlMaster=no",
               "-W", f"127.0.0.1:{int(port)}", "--", self.destination.login]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        except OSError:
            return None
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
        finally:
            timer.cancel()
            proc.kill()
            proc.wait()
        text = line.decode(errors="replace").strip()
        return text if text.startswith("SSH-") else None

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for path in (self.local_socket, self.control):
            try:
                os.unlink(path)
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._stop_locked()
        shutil.rmtree(self.dir, ignore_errors=True)
