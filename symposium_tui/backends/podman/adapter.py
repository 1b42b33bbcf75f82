"""One adapter over podman-py: engine answers in, core models out.

It hides podman 4.x/5.x differences. Seen on 4.3.1 with podman-py 5.8: `Container.status` raises
TypeError on list results ("State" is a plain string there); list-valued filter dicts are sent
mangled and match nothing; `exec_run` output carries stream headers unless demuxed. Every call has
a timeout: a socket that accepts but never answers would otherwise block forever.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import podman
from podman import errors as podman_errors

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineConflict, EngineError, EngineNotFound, EngineUnavailable
from symposium_tui.core.models import (
    ContainerInfo,
    EngineInfo,
    EngineVersion,
    ExecResult,
    HostCapacity,
    ImageInfo,
    PodInfo,
)
from symposium_tui.core.net import ssh_probe
from symposium_tui.backends.podman.specs import ContainerSpec, PodSpec
from symposium_tui.backends.podman.hostfix import PAUSE_FIX
from symposium_tui.backends.podman.normalize import (
    container_from_list,
    engine_info_from,
    filter_params,
    image_from,
    listed,
    matching,
    pod_from_list,
    readable,
    version_from,
    written_sizes,
)
from symposium_tui.backends.podman.networking import NetworkingMixin
from symposium_tui.backends.podman.diskuse import DiskUseMixin
from symposium_tui.backends.podman.operations import TaskspaceEngineMixin
from symposium_tui.backends.podman.tunnel import PROBE_TIMEOUT, SshTunnel

DEFAULT_TIMEOUT = 30.0
LIST_RETRIES = 4
BUILD_TIMEOUT = 1800.0


class Engine(TaskspaceEngineMixin, DiskUseMixin, NetworkingMixin):
    """A connected podman engine. Methods return core models or raise core errors."""

    def __init__(self, uri: str, *, identity: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 source: str = "", tunnel: SshTunnel | None = None) -> None:
        self.uri = uri
        self.source = source
        self.timeout = timeout
        self.calls = 0  # engine calls made, for tests and benchmarks
        # An engine on another machine is reached through our own SSH master (tunnel.py).
        self.tunnel = tunnel
        # A unix socket engine runs on this machine: its cgroups and volume paths are ours to read.
        self.local = uri.startswith("unix:") and tunnel is None
        # Taskspaces publish SSH on the engine host's 127.0.0.1: reachable from here only on this
        # machine or through the SSH connection (not over a bare tcp:// connection).
        self.reaches_ports = uri.startswith("unix:")
        kwargs: dict[str, Any] = {"base_url": uri, "timeout": timeout}
        if identity:
            kwargs["identity"] = identity
        try:
            self.client = podman.PodmanClient(**kwargs)
        except (podman_errors.PodmanError, ValueError, OSError) as exc:
            raise EngineUnavailable(f"cannot use podman at {uri}: {exc}") from exc

    def close(self) -> None:
        self.client.close()
        if self.tunnel is not None:
            self.tunnel.close()

    @property
    def where(self) -> str:
        """The engine's address as a person knows it (the ssh:// URI, not our forwarded socket)."""
        return self.tunnel.remote_uri if self.tunnel is not None else self.uri

    def ssh_answers(self, port: int) -> bool:
        """Whether an SSH server greets on the engine host's 127.0.0.1:PORT (a taskspace's
        published port): directly on this machine, through the SSH master for a remote host."""
        return self.ssh_why_not(port) is None

    def ssh_why_not(self, port: int, timeout: float = 1.0) -> str | None:
        """None when an SSH server greets on the published port, else what happened instead."""
        if self.tunnel is not None:
            self.tunnel.ensure()  # a master that died is not a silent port (as for every call)
            if self.tunnel.banner(port, timeout=max(timeout, PROBE_TIMEOUT)) is not None:
                return None
            return f"no SSH greeting on {self.tunnel.destination.login}'s 127.0.0.1:{port} through the SSH master"
        host = "127.0.0.1" if self.uri.startswith("unix:") else (urlparse(self.uri).hostname or "127.0.0.1")
        banner, why = ssh_probe(port, host, timeout)
        return None if banner is not None else why

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls -----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        self.calls += 1
        if self.tunnel is not None:
            self.tunnel.ensure()  # the host went away and came back: connect again
        try:
            return fn()
        except podman_errors.NotFound as exc:
            # Gone, or never there: an error of ours, so it never reaches a person as a traceback.
            raise EngineNotFound(f"podman could not {what}: {exc.explanation or 'no such object'}") from exc
        except podman_errors.APIError as exc:
            if exc.response is None:
                if _timed_out(exc):
                    raise EngineUnavailable(f"podman at {self.where} did not answer within "
                                            f"{self.timeout:g} s ({what})") from exc
                raise EngineUnavailable(f"podman at {self.where} is unreachable ({what})") from exc
            explanation = readable(str(exc.explanation or exc))
            if exc.response.status_code == 409 or "already in use" in explanation \
                    or "already exists" in explanation:
                raise EngineConflict(f"podman refused to {what}: {explanation}") from exc
            raise EngineError(f"podman refused to {what}: {explanation}", hint=engine_hint(explanation)) from exc
        except (podman_errors.PodmanError, OSError) as exc:
            raise EngineUnavailable(f"podman at {self.where} is unreachable ({what}): {exc}") from exc
        except Exception as exc:  # requests' own errors (timeouts, connection resets)
            if type(exc).__module__.startswith(("requests", "urllib3")):
                raise EngineUnavailable(f"podman at {self.where} did not answer ({what}): {exc}") from exc
            raise

    def _get_json(self, what: str, path: str, **params: Any) -> Any:
        def call() -> Any:
            response = self.client.api.get(path, params=params or None)
            response.raise_for_status()
            return response.json()
        for attempt in range(LIST_RETRIES):
            try:
                return self._call(what, call)
            except EngineNotFound:
                raise
            except EngineError as exc:
                # podman 4.3 fails a whole list when one object vanishes while it is listing
                # ("no such volume"); listing again a moment later is correct. (Telling podman's
                # answers apart by their words is this adapter's job, and no one else's.)
                if "no such" not in exc.message or attempt == LIST_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def ping(self) -> bool:
        try:
            return bool(self._call("ping", self.client.ping))
        except (EngineUnavailable, EngineError):
            return False

    def server_version(self) -> str:
        """podman's version from the /_ping headers: /version takes ~0.4 s here (it gathers host
        details), too slow for the dashboard's first paint."""
        def call() -> str:
            response = self.client.api.get("/_ping")
            response.raise_for_status()
            return response.headers.get("Libpod-API-Version") or response.headers.get("API-Version") or ""
        return self._call("ping", call) or self.version().version

    def version(self) -> EngineVersion:
        return version_from(self._call("read its version", self.client.version))

    def capacity(self) -> HostCapacity:
        """The engine host's CPUs and memory, and whether the engine runs rootless. From this
        machine when the engine is local (its socket's owner tells rootless from rootful): podman's
        /info takes most of a second here, most of it asking the package manager for versions."""
        if self.local:
            try:
                owner = os.stat(self.uri.removeprefix("unix://")).st_uid
                meminfo = Path("/proc/meminfo").read_text().split()
                memory = int(meminfo[meminfo.index("MemTotal:") + 1]) * 1024
                return HostCapacity(os.cpu_count() or 0, memory, owner != 0)
            except (OSError, ValueError, IndexError):
                pass
        info = self.info()
        return HostCapacity(info.cpus, info.memory, info.rootless)

    def info(self) -> EngineInfo:
        return engine_info_from(self._call("describe itself", self.client.info), self.version())

    def _list(self, what: str, path: str, **params: Any) -> Any:
        """A list call; asked again when podman fails it because one of the objects went away
        while it listed ("no such volume": another removal racing it, seen with 200 taskspaces
        removed six at a time)."""
        for attempt in range(4):
            try:
                return self._get_json(what, path, **params)
            except EngineError as exc:
                if "no such" not in exc.message or attempt == 3:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def containers(self, selector: dict[str, str] | None = None) -> list[ContainerInfo]:
        return matching(listed(container_from_list, self._list(
            "list containers", "/containers/json", all=True, **filter_params(selector))), selector)

    def written(self, selector: dict[str, str] | None = None) -> dict[str, tuple[dict[str, str], int]]:
        """What each container wrote to its own root file system (its writable layer), by name,
        with its labels: one call, in which podman walks each layer."""
        return written_sizes(self._get_json("measure containers", "/containers/json", all=True, size=True,
                                            **filter_params(selector)))

    def pods(self, selector: dict[str, str] | None = None) -> list[PodInfo]:
        return matching(listed(pod_from_list, self._list("list pods", "/pods/json", **filter_params(selector))),
                        selector)

    def image(self, name: str) -> ImageInfo | None:
        try:
            data = self._get_json(f"inspect image {name}", f"/images/{name}/json")
        except EngineError:  # EngineNotFound included
            return None
        return image_from(data)

    def probe_pod(self, image: str, port: int, *, timeout: float = 30.0) -> tuple[int, str | None]:
        """What create needs, end to end: a throwaway pod (so its infra container, podman's pause
        binary) publishing PORT on 127.0.0.1, a container from IMAGE whose sshd listens there, and
        an SSH greeting on the host port. Returns (host port, None) or (host port, why not); the pod
        is removed whatever happens. Refusals (no pause binary) raise EngineError with the fix."""
        name = f"symposium-doctor-{os.urandom(4).hex()}"
        labels = L.ours("probe")
        try:
            self.create_pod(PodSpec(name=name, hostname="doctor", labels=labels, ports=(port,),
                                    memory=256 * 1024 * 1024, cpu_millis=1000))
            self.create_container(ContainerSpec(name=f"{name}-sshd", image=image, labels=labels, pod=name,
                                                env={"SSH_PORT": str(port)}))
            self.start_pod(name)
            host_port = self.pod_ports(name).get(port, 0)
            if not host_port:
                return 0, f"podman published no host port for {port}"
            deadline = time.monotonic() + timeout
            while (why := self.ssh_why_not(host_port)) is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            return host_port, why
        finally:
            try:
                self.remove_pod(name)
            except EngineError:
                pass

    def run_throwaway(self, image: str, command: list[str], *, timeout: float = 60.0) -> ExecResult:
        """Create, start, wait for and remove a container: proves the OCI runtime works."""
        return self.run(ContainerSpec(name="", image=image, labels=L.ours("probe"),
                                      command=tuple(command), entrypoint=(), network="none"), timeout)

    def build(self, context_tar: Path, tag: str, *, containerfile: str = "Containerfile",
              labels: dict[str, str] | None = None, build_args: dict[str, str] | None = None,
              on_output: Callable[[str], None] | None = None, network: bool = False, target: str = "",
              memory: int = 0) -> str:
        """Build an image from a context tarball, streaming its output; returns the last line.
        Without NETWORK its steps have none; a failure says the build's last lines."""
        params: dict[str, Any] = {"t": tag, "dockerfile": containerfile, "layers": True, "rm": True,
                                  "forcerm": True}
        if not network:
            params["networkmode"] = "none"
        if labels:
            params["labels"] = json.dumps(labels)
        if build_args:
            params["buildargs"] = json.dumps(build_args)
        if target:
            params["target"] = target
        if memory:
            params["memory"] = memory

        def call() -> str:
            with open(context_tar, "rb") as body:
                response = self.client.api.post(
                    "/build", params=params, data=body, headers={"Content-Type": "application/x-tar"},
                    stream=True, timeout=BUILD_TIMEOUT)
                if response.status_code >= 400:
                    raise EngineError(f"podman refused to build {tag}: {response.text.strip()[:2000]}")
                return self._follow_build(response.iter_lines(), tag, on_output)
        return self._call(f"build {tag}", call)

    @staticmethod
    def _follow_build(lines: Iterable[bytes], tag: str, on_output: Callable[[str], None] | None) -> str:
        tail: list[str] = []
        for raw in lines:
            if not raw:
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(item, dict):
                continue
            if item.get("error"):
                last = " | ".join(line for line in tail[-8:] if line)
                raise EngineError(f"building {tag} failed: {str(item['error']).strip()[:2000]}"
                                  + (f"; its last lines: {last}" if last else ""))
            text = item.get("stream", "")
            if isinstance(text, str) and text:
                tail = [*tail[-19:], *(line.strip()[:300] for line in text.splitlines() if line.strip())]
                if on_output:
                    on_output(text.rstrip("\n"))
        return tail[-1] if tail else ""

    def remove_image(self, name: str) -> None:
        self._call(f"remove image {name}", lambda: self.client.images.remove(name, force=True))


def engine_hint(explanation: str) -> str | None:
    """The fix for refusals whose cause is on the engine's host, not in the request."""
    text = explanation.lower()
    if "pause binary" in text or "catatonit" in text or "pause image" in text:
        return PAUSE_FIX
    return None


def _timed_out(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
