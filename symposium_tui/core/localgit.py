"""git on the person's own repositories on this machine (the --repo of a create, the target of a
fetch): never on a taskspace's repository, whose config, hooks and attributes are the agent's to
write (that git runs inside the taskspace's containers; what it sends back is data)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.repos import is_commit_id
from symposium_tui.core.units import quoted

# The person's repository is theirs, but what a fetch brings into it came from an agent.
SAFE = {"transfer.fsckObjects": "true", "core.fsmonitor": "false", "gc.auto": "0"}


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_COUNT": str(len(SAFE)), "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    for n, (key, value) in enumerate(SAFE.items()):
        env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"] = key, value
    return env


def git(repo: str | Path, *args: str, input: str | None = None, timeout: float = 300.0,
        check: bool = False, what: str = "") -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              input=input, timeout=timeout, errors="replace", env=_environment())
    except FileNotFoundError:
        raise SymposiumError("git is not installed on this machine", hint="apt-get install git") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SymposiumError(f"git in {repo} failed: {exc}") from exc
    if check and done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise SymposiumError(f"{what or 'git'} in {repo} failed: {detail}")
    return done


def resolve(repo: str, ref: str) -> str:
    """The commit REF (a branch, tag or commit) names in REPO now; refused (usage) when none."""
    done = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    sha = done.stdout.strip()
    if done.returncode == 0 and is_commit_id(sha):
        return sha
    readable = git(repo, "rev-parse", "--git-dir")
    if readable.returncode != 0:
        why = (readable.stderr.strip().splitlines() or ["git cannot read it"])[-1]
        raise UsageError(f"--repo {repo}: git cannot read this repository ({why[:300]})")
    if ref == "HEAD":
        raise UsageError(f"--repo {repo}: it has no commit yet to start from", hint="commit something first")
    raise UsageError(f"--ref {quoted(ref)}: no branch, tag or commit of that name in {repo}")


def uncommitted(repo: str) -> int:
    """How many paths have changes not in any commit (tracked and untracked)."""
    done = git(repo, "status", "--porcelain", "-z", "--untracked-files=normal")
    return 0 if done.returncode != 0 else sum(1 for entry in done.stdout.split("\0") if entry[:2].strip())


def present(repo: str | Path, shas: list[str]) -> set[str]:
    """Which of these commits REPO has."""
    shas = [s for s in shas if is_commit_id(s)]
    if not shas:
        return set()
    done = git(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)", input="".join(f"{s}\n" for s in shas))
    if done.returncode != 0:
        return set()
    return {line.split()[0] for line in done.stdout.splitlines() if line.endswith(" commit")}


def is_repository(path: str | Path) -> bool:
    try:
        return git(path, "rev-parse", "--git-dir", timeout=30).returncode == 0
    except SymposiumError:
        return False


@dataclass(frozen=True)
class Fetched:
    branch: str
    head: str
    before: str | None  # where the branch was, None when new
    forced: bool
    lost: int  # commits the branch had that it no longer has (only with force)


def fetch_bundle(repo: str | Path, bundle: Path | None, source_ref: str, branch: str, head: str,
                 force: bool) -> Fetched:
    """Bring SOURCE_REF of BUNDLE (None: REPO has HEAD already) into REPO as BRANCH, which must
    come to be HEAD: a fast-forward,
    or (force) a move that drops the branch's own commits. The bundle's objects are checked."""
    checked_out = git(repo, "symbolic-ref", "--quiet", "HEAD").stdout.strip()
    if bundle is not None:
        git(repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", str(bundle), source_ref,
            check=True, what="fetching the taskspace's bundle")
    if git(repo, "cat-file", "-t", head).stdout.strip() != "commit":
        raise SymposiumError("the taskspace's bundle did not hold the commit its branch names")
    done = git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    before = done.stdout.strip() if done.returncode == 0 else None
    if before == head:
        return Fetched(branch, head, before, False, 0)
    lost = 0
    if before is not None and git(repo, "merge-base", "--is-ancestor", before, head).returncode != 0:
        lost = int(git(repo, "rev-list", "--count", before, "--not", head).stdout.strip() or 0)
        if not force:
            raise UsageError(f"{branch} in {repo} has {lost} commit(s) the taskspace's branch lacks: "
                             "it was not moved", hint="merge them in the taskspace, fetch into another "
                             "clone (--into), or --force to move the branch anyway")
    if checked_out == f"refs/heads/{branch}":
        raise UsageError(f"{branch} is checked out in {repo}: fetching would move it under its files",
                         hint=f"switch to another branch there first (git -C {repo} switch -), then fetch")
    git(repo, "update-ref", "-m", "symposium-tui fetch", f"refs/heads/{branch}", head, before or "",
        check=True, what="moving the branch")
    return Fetched(branch, head, before, lost > 0, lost)
