"""The --repo argument: a local path, file:// or a URL git accepts, checked before any engine call."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from symposium_tui.core.errors import UsageError

_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_NETWORK_SCHEMES = {"http", "https", "ssh", "git"}


@dataclass(frozen=True)
class RepoSpec:
    argument: str
    kind: str  # "path" or "url"
    source: str  # absolute path, or the URL as given
    project: str  # a DNS-label-ish project name, from the last path part

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}:{self.source}".encode()).hexdigest()[:10]

    @property
    def base_volume(self) -> str:
        return f"symposium-base-{self.project[:40]}-{self.key}"

    @property
    def needs_network(self) -> bool:
        return self.kind == "url"


def project_name(source: str) -> str:
    last = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if last.endswith(".git"):
        last = last[:-4]
    name = re.sub(r"[^a-z0-9-]+", "-", last.lower()).strip("-")
    return name or "project"


def _local(argument: str, path: Path) -> RepoSpec:
    path = path.expanduser()
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise UsageError(f"--repo {argument!r}: no such directory") from None
    if not resolved.is_dir():
        raise UsageError(f"--repo {argument!r}: not a directory")
    if not ((resolved / ".git").exists() or (resolved / "HEAD").is_file()):
        raise UsageError(f"--repo {argument!r}: {resolved} is not a git repository")
    return RepoSpec(argument, "path", str(resolved), project_name(str(resolved)))


def parse_repo(argument: str) -> RepoSpec:
    if not argument or not argument.strip():
        raise UsageError("--repo is empty: give a local path, file:// URL or a git URL")
    if argument.startswith("-"):
        raise UsageError(f"--repo {argument!r}: must not start with '-'")
    if any(not c.isprintable() or c.isspace() for c in argument):
        raise UsageError(f"--repo {argument!r}: contains spaces or control characters")
    if "::" in argument.split("/", 1)[0]:
        raise UsageError(f"--repo {argument!r}: git's transport helpers (such as ext::) are refused")
    parsed = urlparse(argument)
    if parsed.scheme == "file":
        return _local(argument, Path(unquote(parsed.path)))
    if parsed.scheme in _NETWORK_SCHEMES:
        if not parsed.hostname or not parsed.path.strip("/"):
            raise UsageError(f"--repo {argument!r}: a URL needs a host and a repository path")
        return RepoSpec(argument, "url", argument, project_name(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1 and "://" in argument:
        raise UsageError(f"--repo {argument!r}: unsupported scheme {parsed.scheme!r} "
                         "(use a path, file://, http(s)://, ssh:// or git://)")
    if _SCP_LIKE.match(argument) and not Path(argument).exists():
        return RepoSpec(argument, "url", argument, project_name(argument.split(":", 1)[1]))
    return _local(argument, Path(argument))
