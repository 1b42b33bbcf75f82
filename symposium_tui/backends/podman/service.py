"""A `podman system service` owned by this process: started on a private socket, stopped on exit.

The service is forked from a keeper thread that lives as long as the service, with
PR_SET_PDEATHSIG, so it dies with us even when we are killed with SIGKILL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.fsutil import private_dir
from symposium_tui.backends.podman.children import die_with_parent
from symposium_tui.backends.podman.connection import unix_socket_answers

MAX_SOCKET_DIR = 80


class PodmanService:
    def __init__(
        self,
        binary: str,
        *,
        socket_dir: Path | None = None,
        containers_conf: Path | None = None,
        root: Path | None = None,
        runroot: Path | None = None,
        parent_dir: Path | None = None,
        env: dict[str, str] | None = None,
        global_args: tuple[str, ...] = (),
    ) -> None:
        self.extra_env = dict(env or {})
        self.global_args = tuple(global_args)  # podman's own options before the command
        self._owns_dir = socket_dir is None
        if socket_dir is None:
            parent = parent_dir if parent_dir and _usable_dir(parent_dir) else None
            if parent is not None and len(str(parent)) > MAX_SOCKET_DIR:
                parent = None  # a unix socket path must fit in 108 bytes
            socket_dir = Path(tempfile.mkdtemp(prefix="podman-", dir=parent))
        self.socket_dir = socket_dir
        self.socket_path = socket_dir / "podman.sock"
        self.log_path = socket_dir / "service.log"
        self.binary = binary
        self.containers_conf = containers_conf
        self.root = root
        self.runroot = runroot
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = threading.Event()
        self._spawn_error: BaseException | None = None

    @property
    def uri(self) -> str:
        return f"unix://{self.socket_path}"

    def command(self) -> list[str]:
        cmd = [self.binary]
        if self.root:
            cmd += ["--root", str(self.root)]
        if self.runroot:
            cmd += ["--runroot", str(self.runroot)]
        return [*cmd, *self.global_args, "system", "service", "--time=0", self.uri]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # This podman is the service (and, for isolated engines, the CLI on its store): never a
        # client of some other engine that CONTAINER_HOST or CONTAINER_CONNECTION names.
        for var in ("CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINER_SSHKEY"):
            env.pop(var, None)
        if self.containers_conf:
            env["CONTAINERS_CONF"] = str(self.containers_conf)
        env.update(self.extra_env)
        return env

    def _keep(self) -> None:
        try:
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self.command(), env=self.environment(), stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, preexec_fn=die_with_parent, start_new_session=True,
                )
        except OSError as exc:
            self._spawn_error = exc
            return
        finally:
            self._started.set()
        self._proc.wait()

    def start(self, timeout: float = 30.0) -> PodmanService:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._started.clear()  # started again after a stop: wait for the new process, not the old
        self._proc, self._spawn_error = None, None
        keeper = threading.Thread(target=self._keep, name="podman-service-keeper", daemon=True)
        keeper.start()
        self._started.wait()
        if self._spawn_error or self._proc is None:
            raise EngineUnavailable(f"could not start `podman system service`: {self._spawn_error}")
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while (why := unix_socket_answers(str(self.socket_path))) is not None:
            if self._proc.poll() is not None:
                raise EngineUnavailable(
                    f"`podman system service` exited with code {self._proc.returncode}: {self.log_tail()}",
                    hint="run `symposium-tui doctor`")
            if time.monotonic() > deadline:
                self.stop()
                raise EngineUnavailable(f"`podman system service` did not answer in {timeout:.0f} s ({why})")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        return self

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._owns_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        else:
            self.socket_path.unlink(missing_ok=True)


def _usable_dir(path: Path) -> bool:
    """Ours alone (see fsutil.private_dir); otherwise the socket dir goes to the temp dir, where
    mkdtemp makes it private under a sticky parent."""
    return private_dir(path) and os.access(path, os.W_OK)
