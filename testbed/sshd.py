"""A private OpenSSH server on 127.0.0.1 with keys of its own: the "other machine" of the tests and
the demo, in front of a second isolated engine. Nothing of the person's ~/.ssh is read or written.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.net import ssh_banner
from symposium_tui.backends.podman.children import die_with_parent

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
MaxSessions 100
MaxStartups 100:30:200
LogLevel ERROR
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class LoopbackSshd:
    def __init__(self, directory: Path, env: dict[str, str] | None = None) -> None:
        self.dir = directory
        self.env = env or {}  # set in every session (e.g. CONTAINER_HOST: which podman is "there")
        self.client_key = directory / "client_ed25519"
        self.host_key = directory / "host_ed25519"
        self.config = directory / "sshd_config"
        self.user = getpass.getuser()
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def _keys(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for key in (self.client_key, self.host_key):
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "symposium-test",
                                "-f", str(key)], check=True, capture_output=True)
        (self.dir / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self.config.write_text(SSHD_CONFIG.format(
            port=self.port, host_key=self.host_key, pid_file=self.dir / "sshd.pid",
            authorized_keys=self.dir / "authorized_keys"))
        if self.env:
            with self.config.open("a") as config:
                config.write("SetEnv " + " ".join(f"{k}={v}" for k, v in self.env.items()) + "\n")

    def start(self, timeout: float = 15.0) -> LoopbackSshd:
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            raise EngineUnavailable("sshd is not installed", hint="apt-get install openssh-server")
        self._keys()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
        log = open(self.dir / "sshd.log", "ab")  # noqa: SIM115 - sshd keeps it
        # It dies with the process that started it (a killed test run leaves no sshd behind).
        self._proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(self.config)], stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=log, start_new_session=True,
                                      preexec_fn=die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while ssh_banner(self.port) is None:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise EngineUnavailable("the test sshd did not start: "
                                        + (self.dir / "sshd.log").read_text(errors="replace")[-300:])
            time.sleep(0.05)
        return self

    def uri(self, socket_path: str) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{socket_path}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """The whole server: the listener and every session it forked (the machine went away)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pid in [proc.pid, *_descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
