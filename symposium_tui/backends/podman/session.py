"""Connect to an engine: discovery, then the embedded service when nothing answers."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

from symposium_tui.core.errors import EngineUnavailable, UsageError
from symposium_tui.core.hosts import LOCAL, HostSpec
from symposium_tui.core.sshconfig import Jump
from symposium_tui.core.paths import AppPaths, app_paths
import symposium_tui.backends.podman.hostfix as hostfix
from symposium_tui.backends.podman.adapter import DEFAULT_TIMEOUT, Engine
from symposium_tui.backends.podman.connection import (
    Discovery,
    Target,
    candidate_targets,
    connection_target,
    foreign_socket,
    no_engine_error,
    podman_binary,
    unix_socket_answers,
)
from symposium_tui.backends.podman.backend import PodmanBackend
from symposium_tui.backends.podman.service import PodmanService
from symposium_tui.backends.podman.tunnel import SshTunnel


@dataclass
class Connection:
    engine: Engine
    target: Target
    discovery: Discovery
    service: PodmanService | None = None
    host_fixes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def host(self) -> str:
        """The host's name: state, SSH aliases and the dashboard's host column use it."""
        return self.target.name

    @property
    def where(self) -> str:
        return f"{self.target.uri} ({self.target.source})"

    @property
    def address(self) -> str:
        """The engine's address as a person knows it (an ssh:// URI, not the forwarded socket)."""
        return self.engine.where

    @cached_property
    def backend(self) -> PodmanBackend:
        """What core drives: this engine at the size of a taskspace."""
        return PodmanBackend(self.engine)

    def server_version(self) -> str:
        return self.engine.server_version()

    def jump(self) -> Jump | None:
        """The remote host's SSH server, for ProxyJump entries; None for an engine on this machine."""
        tunnel = self.engine.tunnel
        if tunnel is None:
            return None
        dest = tunnel.destination
        return Jump(self.host, dest.host, dest.port, dest.user,
                    str(Path(tunnel.identity).expanduser()) if tunnel.identity else None)

    def close(self) -> None:
        self.engine.close()
        if self.service is not None:
            self.service.stop()


def _reachable(target: Target, timeout: float, paths: AppPaths) -> tuple[Engine | None, str]:
    parsed = urlparse(target.uri)
    if parsed.scheme == "unix":
        why = unix_socket_answers(parsed.path, timeout=min(timeout, 2.0))
        if why is not None:
            return None, why
    if parsed.scheme == "ssh":
        tunnel = SshTunnel(target.uri, identity=target.identity, known_hosts=paths.known_hosts,
                           runtime_dir=paths.runtime_dir, name=target.name)
        try:
            tunnel.start()
        except EngineUnavailable as exc:
            tunnel.close()
            return None, exc.message
        engine = Engine(tunnel.uri, timeout=timeout, source=target.source, tunnel=tunnel)
    else:
        engine = Engine(target.uri, identity=target.identity, timeout=timeout, source=target.source)
    answered = engine.ping()
    if not answered and parsed.scheme == "ssh":
        time.sleep(0.5)  # a fresh SSH forward can drop its very first channel while the master settles
        answered = engine.ping()
    if answered:
        return engine, "answered"
    engine.close()
    return None, "did not answer /_ping"


def start_embedded(paths: AppPaths, binary: str, environ: dict[str, str] | None = None,
                   network_backend: str = "") -> tuple[PodmanService, tuple[str, ...]]:
    backend, why = hostfix.choose_backend(network_backend, environ)
    fix = hostfix.fixes_for(hostfix.HostQuirks.detect(), backend)
    fix = dataclasses.replace(fix, reasons=tuple(f"{r} ({why})" if r.startswith("network backend") else r
                                                 for r in fix.reasons))
    if fix.problems:
        raise EngineUnavailable("cannot start a podman service here: " + "; ".join(fix.problems))
    service = PodmanService(binary, parent_dir=paths.runtime_dir)
    conf = hostfix.write_conf(service.socket_dir / "containers.conf", fix, environ)
    service.containers_conf = conf
    service.start()
    return service, fix.reasons


def connect(url: str | None = None, *, connection: str | None = None, timeout: float = DEFAULT_TIMEOUT,
            embedded: bool = True, paths: AppPaths | None = None,
            configured: tuple[HostSpec, ...] = (), use_connections: bool = True,
            network_backend: str = "") -> Connection:
    """The engine of --url, of a named connection, or podman's default order (see connection.py).
    use_connections=False: this machine's engine only ("local"), whatever podman's default is."""
    environ = dict(os.environ)
    discovery = Discovery()
    paths = paths or app_paths()
    if url and connection:
        raise UsageError("give --url or --connection, not both")
    if connection == LOCAL:
        connection, use_connections = None, False
    targets = ([connection_target(connection, environ, configured)] if connection
               else candidate_targets(url, environ, use_connections=use_connections))
    for target in targets:
        if (foreign := foreign_socket(target)) is not None:
            discovery.tried.append((target, foreign))
            continue
        engine, why = _reachable(target, timeout, paths)
        if engine is not None:
            return Connection(engine, target, discovery)
        discovery.tried.append((target, why))
        if target.explicit:
            raise EngineUnavailable(
                f"podman at {target.uri} (from {target.source}) is unreachable: {why}",
                hint="start the service there (podman system service) or fix the address")
    binary = podman_binary()
    if not embedded or binary is None:
        raise no_engine_error(discovery)
    service, reasons = start_embedded(paths, binary, environ, network_backend)
    target = Target(service.uri, "embedded service")
    return Connection(Engine(service.uri, timeout=timeout, source=target.source), target, discovery,
                      service=service, host_fixes=reasons)
