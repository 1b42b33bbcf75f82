"""Find the podman engine to talk to, in podman's own order, or start one for this process.

Order: --url, CONTAINER_HOST, CONTAINER_CONNECTION / podman's default connection, the rootful
socket, the rootless socket. An explicit --url or CONTAINER_HOST that does not answer is an error
(podman does not fall back either). When nothing answers but podman is installed, a private
`podman system service` is started for the lifetime of this process (the embedded default).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from symposium_tui.core.errors import EngineUnavailable, PodmanNotInstalled, UsageError
from symposium_tui.core.hosts import LOCAL, HostSpec, pick, valid_host_name
from symposium_tui.backends.podman.hostfix import system_conf_files

ROOTFUL_SOCKET = "/run/podman/podman.sock"
INSTALL_HINT = (
    "install podman (Debian/Ubuntu: sudo apt-get install podman runc; Fedora: sudo dnf install "
    "podman), or point --url / CONTAINER_HOST at a running podman service"
)


@dataclass(frozen=True)
class Target:
    """One place an engine may be: where it came from and how to reach it."""

    uri: str
    source: str
    identity: str | None = None
    explicit: bool = False
    name: str = LOCAL  # the host's name: a connection's name, else "local"


@dataclass
class Discovery:
    """What was tried, for `doctor` and error messages."""

    tried: list[tuple[Target, str]] = field(default_factory=list)

    def summary(self) -> str:
        return "; ".join(f"{t.source} {t.uri}: {why}" for t, why in self.tried) or "nothing to try"


def validate_url(url: str, what: str = "--url") -> str:
    """unix://, ssh:// or tcp:// only: ssh goes through the product's own SSH (tunnel.py), never
    podman-py's adapter (http+ssh://), which turns host key checking off."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise UsageError(f"{what} {url!r}: not a valid URL ({exc})") from None
    if any(not c.isprintable() or c.isspace() for c in url):
        raise UsageError(f"{what} {url!r}: spaces and control characters are not allowed")
    if parsed.scheme not in ("unix", "ssh", "tcp"):
        raise UsageError(
            f"{what} {url!r}: expected unix:///path/to/podman.sock, ssh://user@host[:port]/path "
            "or tcp://host:port"
        )
    if parsed.scheme == "unix" and not parsed.path:
        raise UsageError(f"{what} {url!r}: a unix URL needs a socket path (unix:///run/podman/podman.sock)")
    if parsed.scheme in ("ssh", "tcp") and not parsed.hostname:
        raise UsageError(f"{what} {url!r}: needs a host name")
    return url


def _podman_connections_json(environ: dict[str, str]) -> dict:
    """podman 5 keeps connections in podman-connections.json."""
    home = Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for path in (home / "containers" / "podman-connections.json",
                 Path("/etc/containers/podman-connections.json")):
        try:
            return json.loads(path.read_text(encoding="utf-8")).get("Connection") or {}
        except (OSError, ValueError):
            continue
    return {}


def configured_connections(environ: dict[str, str]) -> tuple[str | None, dict[str, dict[str, str]]]:
    """(default name, {name: {"uri", "identity"}}) from podman 5's JSON and containers.conf."""
    connections: dict[str, dict[str, str]] = {}
    default: str | None = None
    for path in system_conf_files(environ):
        try:
            engine = tomllib.loads(path.read_text(encoding="utf-8")).get("engine", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        default = engine.get("active_service", default)
        for name, dest in (engine.get("service_destinations") or {}).items():
            connections[name] = {"uri": dest.get("uri", ""), "identity": dest.get("identity", "")}
    podman5 = _podman_connections_json(environ)
    for name, dest in (podman5.get("Connections") or {}).items():
        connections[name] = {"uri": dest.get("URI", ""), "identity": dest.get("Identity", "")}
    default = podman5.get("Default") or default
    return default, connections


def host_name_of(url: str) -> str:
    """The host name of an engine given by URL: a socket is this machine's ("local"); another
    machine goes by its host name (its state and SSH entries are kept apart from this machine's)."""
    if url.startswith("unix:"):
        return LOCAL
    host = urlparse(url).hostname or ""
    return host if valid_host_name(host) and host != LOCAL else "remote"


def named_hosts(environ: dict[str, str] | None = None, configured: tuple[HostSpec, ...] = ()
                ) -> list[HostSpec]:
    """podman's connections, then the product's `hosts:` (which win on equal names). Connections
    whose names cannot be host names here are left out."""
    environ = dict(os.environ) if environ is None else environ
    _, connections = configured_connections(environ)
    hosts = {name: HostSpec(name, dest["uri"], dest["identity"] or None, "podman connection")
             for name, dest in sorted(connections.items()) if valid_host_name(name) and name != LOCAL}
    hosts.update({h.name: h for h in configured})
    return list(hosts.values())


def connection_target(name: str, environ: dict[str, str] | None = None,
                      configured: tuple[HostSpec, ...] = ()) -> Target:
    host = pick(named_hosts(environ, configured), name)
    validate_url(host.uri or "", f"connection {name!r}")
    return Target(host.uri or "", f"connection {name!r} ({host.source})", host.identity, explicit=True,
                  name=name)


def candidate_targets(url: str | None, environ: dict[str, str] | None = None, *,
                      use_connections: bool = True) -> list[Target]:
    environ = dict(os.environ) if environ is None else environ
    if url:
        return [Target(validate_url(url), "--url", explicit=True, name=host_name_of(url))]
    if environ.get("CONTAINER_HOST"):
        identity = environ.get("CONTAINER_SSHKEY") or None
        host = validate_url(environ["CONTAINER_HOST"], "CONTAINER_HOST")
        return [Target(host, "CONTAINER_HOST", identity, explicit=True, name=host_name_of(host))]
    targets: list[Target] = []
    default, connections = configured_connections(environ) if use_connections else (None, {})
    wanted = environ.get("CONTAINER_CONNECTION") or default
    if wanted:
        if wanted not in connections:
            raise UsageError(f"podman connection {wanted!r} is not configured "
                             f"(known: {', '.join(sorted(connections)) or 'none'})")
        dest = connections[wanted]
        validate_url(dest["uri"], f"podman connection {wanted!r}")
        source = "CONTAINER_CONNECTION" if environ.get("CONTAINER_CONNECTION") else "default connection"
        targets.append(Target(dest["uri"], f"{source} {wanted!r}", dest["identity"] or None,
                              explicit=bool(environ.get("CONTAINER_CONNECTION")),
                              name=wanted if valid_host_name(wanted) else LOCAL))
    targets.append(Target(f"unix://{ROOTFUL_SOCKET}", "rootful socket"))
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        targets.append(Target(f"unix://{runtime}/podman/podman.sock", "rootless socket"))
    return targets


def foreign_socket(target: Target, euid: int | None = None) -> str | None:
    """Why root must not use a socket it found by itself (not named by --url, CONTAINER_HOST or
    CONTAINER_CONNECTION): one another user owns (their rootless engine, or one made to look like
    it) would hand root's commands to them. None when it may be used."""
    euid = os.geteuid() if euid is None else euid
    if target.explicit or euid != 0 or not target.uri.startswith("unix://"):
        return None
    path = target.uri.removeprefix("unix://")
    for item in (path, os.path.dirname(path)):
        try:
            owner = os.lstat(item).st_uid
        except OSError:
            return None  # nothing there: unix_socket_answers says so
        if owner != 0:
            return f"{item} belongs to uid {owner}, not root: used only when named (--url)"
    return None


def unix_socket_answers(path: str, timeout: float = 1.0) -> str | None:
    """None when a podman API answers /_ping on the socket, else why not."""
    if not os.path.exists(path):
        return "no such socket"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return exc.strerror or str(exc)
    if reply.startswith(b"HTTP/1.1 200") or reply.startswith(b"HTTP/1.0 200"):
        return None
    return "the socket answered, but not as a podman service"


def podman_binary() -> str | None:
    return shutil.which("podman")


def podman_cli_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().rsplit(" ", 1)[-1] if out.returncode == 0 else None


def no_engine_error(discovery: Discovery) -> EngineUnavailable:
    if podman_binary() is None:
        return PodmanNotInstalled(
            "podman is not installed and no podman service answered "
            f"(tried: {discovery.summary()})", hint=INSTALL_HINT)
    return EngineUnavailable(f"no podman service answered (tried: {discovery.summary()})",
                             hint="run `symposium-tui doctor` for details")
