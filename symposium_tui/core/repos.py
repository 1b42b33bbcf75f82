"""The --repo argument: a local path, file:// or a URL git accepts, checked before any engine call."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from symposium_tui.core.errors import UsageError
from symposium_tui.core.units import quoted

_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_NETWORK_SCHEMES = {"http", "https", "ssh", "git"}
MAX_LENGTH = 4096  # PATH_MAX; git takes no longer URL either


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
    if "\0" in str(path):
        raise UsageError(f"--repo {quoted(argument)}: contains a NUL character")
    try:
        resolved = path.expanduser().resolve(strict=True)
        is_dir = resolved.is_dir()
        is_repo = is_dir and ((resolved / ".git").exists() or (resolved / "HEAD").is_file())
    except (OSError, RuntimeError):  # no such path, too long, no permission, '~nobody'
        raise UsageError(f"--repo {quoted(argument)}: no such directory") from None
    if not is_dir:
        raise UsageError(f"--repo {quoted(argument)}: not a directory")
    if not is_repo:
        raise UsageError(f"--repo {quoted(argument)}: {resolved} is not a git repository")
    return RepoSpec(argument, "path", str(resolved), project_name(str(resolved)))


def _exists(argument: str) -> bool:
    try:
        return Path(argument).exists()
    except (OSError, ValueError):
        return False


def parse_repo(argument: str) -> RepoSpec:
    if not isinstance(argument, str) or not argument.strip():
        raise UsageError("--repo is empty: give a local path, file:// URL or a git URL")
    if len(argument) > MAX_LENGTH:
        raise UsageError(f"--repo {quoted(argument)}: {len(argument)} characters long (at most {MAX_LENGTH})")
    if argument.startswith("-"):
        raise UsageError(f"--repo {quoted(argument)}: must not start with '-'")
    if any(not c.isprintable() or c.isspace() for c in argument):
        raise UsageError(f"--repo {quoted(argument)}: contains spaces or control characters")
    if "::" in argument.split("/", 1)[0]:
        raise UsageError(f"--repo {quoted(argument)}: git's transport helpers (such as ext::) are refused")
    try:
        parsed = urlparse(argument)
        hostname = parsed.hostname
    except ValueError:  # such as an unclosed IPv6 bracket: 'https://[::1/repo'
        raise UsageError(f"--repo {quoted(argument)}: not a valid URL") from None
    if parsed.scheme == "file":
        return _local(argument, Path(unquote(parsed.path)))
    if parsed.scheme in _NETWORK_SCHEMES:
        if not hostname or not parsed.path.strip("/"):
            raise UsageError(f"--repo {quoted(argument)}: a URL needs a host and a repository path")
        if hostname.startswith("-") or (parsed.username or "").startswith("-"):
            # git refuses these too ("strange hostname"): ssh would read them as options
            raise UsageError(f"--repo {quoted(argument)}: a host or user name must not start with '-'")
        return RepoSpec(argument, "url", argument, project_name(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1 and "://" in argument:
        raise UsageError(f"--repo {quoted(argument)}: unsupported scheme {quoted(parsed.scheme)} "
                         "(use a path, file://, http(s)://, ssh:// or git://)")
    if _SCP_LIKE.match(argument) and not _exists(argument):
        host = argument.split(":", 1)[0].rsplit("@", 1)[-1]
        if host.startswith("-"):
            raise UsageError(f"--repo {quoted(argument)}: a host name must not start with '-'")
        return RepoSpec(argument, "url", argument, project_name(argument.split(":", 1)[1]))
    return _local(argument, Path(argument))


def person_git_identity(name: str = "", email: str = "") -> tuple[str, str]:
    """The (name, email) commits in a taskspace are made with: the configured ones, else the
    person's own (`git config user.name` outside any repository: system and global config)."""
    import subprocess

    from symposium_tui.core.config import valid_git_value

    found = {"name": name, "email": email}
    for key in ("name", "email"):
        if found[key]:
            continue
        try:
            done = subprocess.run(["git", "config", "--get", f"user.{key}"], cwd="/", capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        value = done.stdout.strip()
        found[key] = value if done.returncode == 0 and valid_git_value(value) else ""
    return found["name"], found["email"]


_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def branch_problem(name: str) -> str:
    """Why NAME is not a name git accepts for a branch or tag (git check-ref-format's rules), or ""."""
    if not name:
        return "is empty"
    if len(name) > 200:
        return "is longer than 200 characters"
    if name.startswith("-"):
        return "must not start with '-'"
    if _REF_BAD.search(name):
        return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in name or "@{" in name or "//" in name or name == "@":
        return "must not contain '..', '@{' or '//', nor be '@'"
    if name.startswith("/") or name.endswith("/") or name.endswith("."):
        return "must not start or end with '/', nor end with '.'"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return "has a part that starts with '.' or ends with '.lock'"
    return ""


def validate_branch(name: str) -> str:
    if (problem := branch_problem(name)) or name == "HEAD":
        raise UsageError(f"--branch {quoted(name)}: {problem or 'is not a branch name'}")
    return name


def validate_ref(ref: str) -> str:
    """--ref: a branch, a tag or a commit (4 to 40 hex digits); git's revision syntax (HEAD~2,
    main@{yesterday}) is not taken, so what it names is never a surprise."""
    if ref != "HEAD" and (problem := branch_problem(ref)):
        raise UsageError(f"--ref {quoted(ref)}: {problem}")
    return ref


def is_commit_id(value: object, full: bool = True) -> bool:
    return isinstance(value, str) and bool(_HEX.match(value)) and (len(value) == 40 or not full)
