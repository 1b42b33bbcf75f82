"""Connect to an engine: discovery, then the embedded service when nothing answers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.paths import AppPaths, app_paths
from symposium_tui.engine import hostfix
from symposium_tui.engine.adapter import DEFAULT_TIMEOUT, Engine
from symposium_tui.engine.connection import (
    Discovery,
    Target,
    candidate_targets,
    no_engine_error,
    podman_binary,
    unix_socket_answers,
)
from symposium_tui.engine.service import PodmanService


@dataclass
class Connection:
    engine: Engine
    target: Target
    discovery: Discovery
    service: PodmanService | None = None
    host_fixes: tuple[str, ...] = field(default_factory=tuple)

    def close(self) -> None:
        self.engine.close()
        if self.service is not None:
            self.service.stop()


def _reachable(target: Target, timeout: float) -> tuple[Engine | None, str]:
    parsed = urlparse(target.uri)
    if parsed.scheme == "unix":
        why = unix_socket_answers(parsed.path, timeout=min(timeout, 2.0))
        if why is not None:
            return None, why
    engine = Engine(target.uri, identity=target.identity, timeout=timeout, source=target.source)
    if engine.ping():
        return engine, "answered"
    engine.close()
    return None, "did not answer /_ping"


def start_embedded(paths: AppPaths, binary: str, environ: dict[str, str] | None = None
                   ) -> tuple[PodmanService, tuple[str, ...]]:
    fix = hostfix.fixes_for(hostfix.HostQuirks.detect())
    if fix.problems:
        raise EngineUnavailable("cannot start a podman service here: " + "; ".join(fix.problems))
    service = PodmanService(binary, parent_dir=paths.runtime_dir)
    conf = hostfix.write_conf(service.socket_dir / "containers.conf", fix, environ)
    service.containers_conf = conf
    service.start()
    return service, fix.reasons


def connect(url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, embedded: bool = True,
            paths: AppPaths | None = None) -> Connection:
    environ = dict(os.environ)
    discovery = Discovery()
    for target in candidate_targets(url, environ):
        engine, why = _reachable(target, timeout)
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
    service, reasons = start_embedded(paths or app_paths(), binary, environ)
    target = Target(service.uri, "embedded service")
    return Connection(Engine(service.uri, timeout=timeout, source=target.source), target, discovery,
                      service=service, host_fixes=reasons)
