"""What a taskspace did since its start commit, and bringing its branch home.

git reads a taskspace's repository only inside that taskspace's own containers (its running dev
container, else a probe container that mounts that workspace alone, read-only, with no network),
as the unprivileged user who works there, with the repository's fsmonitor, hooks, external diff
and textconv turned off: the repository's config, hooks, attributes and filters are the agent's to
write, so whatever they run stays in that taskspace. What comes back is data, read defensively:
NUL-separated records, and the commits as a git bundle (base64), which git on this machine checks
object by object as it fetches it into the person's repository.
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from symposium_tui.core import labels as L
from symposium_tui.core import localgit
from symposium_tui.core.backend import Inventory
from symposium_tui.core.display import printable
from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.ids import validate_id
from symposium_tui.core.models import ExecResult
from symposium_tui.core.repos import branch_problem, is_commit_id
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.inventory import inventory as read_inventory
from symposium_tui.core.taskspace import CONTAINER_UID

PATCH_LIMIT = 4 * 2**20  # bytes of patch brought back (the rest is said to be cut)
COMMIT_LIMIT = 1000  # commits listed (all are counted)

# $1 start commit, $2 branch, $3 what: summary | patch | stat | bundle, $4 "full" for a bundle
# of the branch's whole history (else the commits after the start only).
CHANGES_SCRIPT = r"""
set -u
start="$1"; branch="$2"; what="$3"; full="${4:-}"
export GIT_CONFIG_COUNT=8 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
    GIT_CONFIG_KEY_1=core.fsmonitor GIT_CONFIG_VALUE_1=false \
    GIT_CONFIG_KEY_2=core.hooksPath GIT_CONFIG_VALUE_2=/dev/null \
    GIT_CONFIG_KEY_3=core.untrackedCache GIT_CONFIG_VALUE_3=false \
    GIT_CONFIG_KEY_4=diff.external GIT_CONFIG_VALUE_4= \
    GIT_CONFIG_KEY_5=gc.auto GIT_CONFIG_VALUE_5=0 \
    GIT_CONFIG_KEY_6=core.pager GIT_CONFIG_VALUE_6=cat \
    GIT_CONFIG_KEY_7=color.ui GIT_CONFIG_VALUE_7=false \
    GIT_OPTIONAL_LOCKS=0 GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat
unset GIT_EXTERNAL_DIFF GIT_DIR GIT_WORK_TREE
m() { printf '\0\0@%s\0\0' "$1"; }
cd /workspace 2>/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || exit 3
git cat-file -e "$start^{commit}" 2>/dev/null || exit 4
tip=$(git rev-parse -q --verify "refs/heads/$branch" || true)
m head; git rev-parse -q --verify HEAD || true
m tip; printf '%s' "$tip"
m on; git symbolic-ref -q HEAD || true
if [ -n "$tip" ]; then
    m count; git rev-list --count "$start..$tip"
    m commits; git log -z --max-count=1000 --format='%H %s' "$start..$tip" --
fi
m status; git status --porcelain=v1 -z --untracked-files=all
index=$(mktemp)
if [ -f "$(git rev-parse --git-path index)" ]; then cp "$(git rev-parse --git-path index)" "$index"; else rm -f "$index"; fi
export GIT_INDEX_FILE="$index"
git add --intent-to-add --all >/dev/null 2>&1 || true
m numstat; git diff --no-renames --no-ext-diff --no-textconv --numstat -z "$start" --
m names; git diff --no-renames --no-ext-diff --no-textconv --name-status -z "$start" --
case "$what" in
    patch) m patch; git diff --no-renames --no-ext-diff --no-textconv --no-color "$start" -- | head -c 4194305 ;;
    stat) m stat; git diff --no-renames --no-ext-diff --no-textconv --no-color --stat=100,70 "$start" -- ;;
esac
rm -f "$index"
unset GIT_INDEX_FILE
if [ "$what" = bundle ] && [ -n "$tip" ]; then
    m bundle
    if [ "$full" = full ]; then git bundle create -q - "refs/heads/$branch" | base64 -w 0
    else git bundle create -q - "refs/heads/$branch" "^$start" | base64 -w 0; fi
fi
m end
"""
CHANGES_USER = f"{CONTAINER_UID}:{CONTAINER_UID}"
_MARK = re.compile(r"\x00\x00@([a-z]+)\x00\x00")
_STATUS = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed", "U": "unmerged"}


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added, modified, deleted, type changed
    added: int | None  # lines; None for a binary file
    removed: int | None

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "status": self.status, "added": self.added, "removed": self.removed}


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str


@dataclass(frozen=True)
class Changes:
    taskspace: str
    start: str
    branch: str
    head: str  # the commit HEAD is at ("" before any)
    tip: str  # the commit the branch is at ("": the branch is gone)
    checked_out: str  # the branch HEAD is on ("": detached)
    commit_count: int
    commits: tuple[Commit, ...]  # newest first, at most COMMIT_LIMIT
    files: tuple[FileChange, ...]  # start commit -> working tree, untracked files included
    uncommitted: tuple[str, ...]  # "XY path", as git status --porcelain says it
    patch: str = ""
    patch_cut: bool = False
    stat: str = ""
    bundle: bytes = field(default=b"", repr=False)

    @property
    def added(self) -> int:
        return sum(f.added or 0 for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed or 0 for f in self.files)

    @property
    def any(self) -> bool:
        return bool(self.commit_count or self.files or self.uncommitted)

    def summary(self) -> str:
        """`+12 −3 · 2c`: lines added and removed since the start, and commits on the branch."""
        if not self.any:
            return "none"
        text = f"+{self.added} −{self.removed}"
        return text + (f" · {self.commit_count}c" if self.commit_count else "")

    def as_dict(self) -> dict[str, object]:
        return {"taskspace": self.taskspace, "start": self.start, "branch": self.branch,
                "head": self.head or None, "branch_head": self.tip or None,
                "checked_out": self.checked_out or None,
                "commit_count": self.commit_count,
                "commits": [{"sha": c.sha, "subject": c.subject} for c in self.commits],
                "files": [f.as_dict() for f in self.files],
                "uncommitted": list(self.uncommitted),
                "added": self.added, "removed": self.removed}


def parse_changes(taskspace: str, start: str, branch: str, result: ExecResult) -> Changes:
    """The script's answer, which whoever works in the taskspace can shape: anything that is not
    what git prints is refused as a whole, never half-believed."""
    if result.exit_code == 3:
        raise SymposiumError(f"/workspace of {taskspace} is not a git repository, so its changes cannot be told")
    if result.exit_code == 4:
        raise SymposiumError(f"the start commit {start[:12]} of {taskspace} is no longer in its repository",
                             hint="its history was rewritten in the taskspace")
    parts = _MARK.split(result.stdout)
    sections: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        sections[name] = body
    if result.exit_code != 0 or "end" not in sections:
        detail = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
        raise SymposiumError(f"reading the changes of {taskspace} failed: {detail[:300]}")
    head, tip = sections.get("head", "").strip(), sections.get("tip", "").strip()
    on = sections.get("on", "").strip()
    on = on[len("refs/heads/"):] if on.startswith("refs/heads/") else ""
    count = sections.get("count", "0").strip()
    commits = []
    for record in sections.get("commits", "").split("\0"):
        sha, _, subject = record.strip("\n").partition(" ")
        if is_commit_id(sha):
            commits.append(Commit(sha, subject))
    uncommitted = _status_entries(sections.get("status", ""))
    files = _files(sections.get("numstat", ""), sections.get("names", ""))
    bundle = b""
    if "bundle" in sections:
        try:
            bundle = base64.b64decode(sections["bundle"].strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SymposiumError(f"the commits of {taskspace} came back damaged") from None
    patch = sections.get("patch", "")
    return Changes(taskspace, start, branch, head if is_commit_id(head) else "",
                   tip if is_commit_id(tip) else "", on if branch_problem(on) == "" else "",
                   int(count) if count.isdigit() else len(commits), tuple(commits[:COMMIT_LIMIT]),
                   files, uncommitted, patch[:PATCH_LIMIT], len(patch) > PATCH_LIMIT, sections.get("stat", ""),
                   bundle)


def _status_entries(text: str) -> tuple[str, ...]:
    entries, records = [], text.split("\0")
    skip = False
    for record in records:
        if skip:  # a rename's second path
            skip = False
            continue
        if len(record) < 4 or record[2] != " ":
            continue
        entries.append(record)
        skip = record[0] in "RC"
    return tuple(entries)


def _files(numstat: str, names: str) -> tuple[FileChange, ...]:
    status: dict[str, str] = {}
    records = names.split("\0")
    for letter, path in zip(records[0::2], records[1::2]):
        if path:
            status[path] = _STATUS.get(letter[:1], "changed")
    files = []
    for record in numstat.split("\0"):
        added, _, rest = record.partition("\t")
        removed, _, path = rest.partition("\t")
        if not path:
            continue
        files.append(FileChange(path, status.get(path, "modified"), int(added) if added.isdigit() else None,
                                int(removed) if removed.isdigit() else None))
    return tuple(files)


@dataclass(frozen=True)
class FetchOutcome:
    taskspace: str
    into: str
    branch: str
    head: str
    before: str | None
    commits: int  # commits on the branch since the start
    lost: int  # commits the branch in the repository had that --force dropped
    left_behind: tuple[str, ...]  # uncommitted changes that stay in the taskspace

    @property
    def moved(self) -> bool:
        return self.before != self.head

    def describe(self) -> list[str]:
        """What it did, as `fetch` and the dashboard say it (what came from the taskspace escaped)."""
        branch, into = printable(self.branch), printable(self.into)
        if not self.moved:
            lines = [f"{branch} in {into} is already at {self.head[:12]}: nothing new"]
        elif self.before is None:
            lines = [f"fetched {branch} into {into} at {self.head[:12]} ({self.commits} commit(s) since the start)"]
        else:
            lines = [f"moved {branch} in {into} from {self.before[:12]} to {self.head[:12]}"
                     + (f", dropping {self.lost} commit(s) it had (--force)" if self.lost else "")]
        if self.left_behind:
            shown = ", ".join(printable(e[3:]) for e in self.left_behind[:5])
            more = f" and {len(self.left_behind) - 5} more" if len(self.left_behind) > 5 else ""
            lines.append(f"{len(self.left_behind)} uncommitted change(s) stay in the taskspace: {shown}{more} "
                         "(commit them there to bring them)")
        return lines

    def as_dict(self) -> dict[str, object]:
        return {"taskspace": self.taskspace, "into": self.into, "branch": self.branch, "head": self.head,
                "before": self.before, "commits": self.commits, "dropped": self.lost,
                "uncommitted_left_behind": list(self.left_behind)}


def check_into(into: str) -> Path:
    try:
        path = Path(into).expanduser().resolve()
        found = path.is_dir() and localgit.is_repository(path)
    except (OSError, RuntimeError, ValueError):
        found = False
    if not found:
        raise UsageError(f"--into {printable(into)}: not a git repository on this machine")
    return path


class TaskspaceChanges:
    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.backend = ctx.backend

    def origin(self, taskspace: str, inventory: Inventory) -> tuple[str, str, str]:
        """(start commit, branch, repository) of a taskspace, from its labels, else the registry."""
        labels = inventory.pod.labels if inventory.pod else {}
        workspace = inventory.volume("workspace")
        remembered = self.ctx.registry.read().get(taskspace, {})
        start = labels.get(L.START) or (workspace.labels.get(L.START) if workspace else None) or remembered.get("start")
        branch = (labels.get(L.BRANCH) or (workspace.labels.get(L.BRANCH) if workspace else None)
                  or remembered.get("branch"))
        repo = labels.get(L.REPO) or str(remembered.get("repo") or "")
        if not is_commit_id(start) or not isinstance(branch, str) or branch_problem(branch):
            raise SymposiumError(f"taskspace {taskspace!r} has no recorded start commit and branch (it was "
                                 "made by an earlier version), so what it changed cannot be told apart",
                                 hint="look with git in the taskspace, over SSH (symposium-tui ssh-config)")
        return start, branch, repo

    def _inventory(self, taskspace: str) -> Inventory:
        validate_id(taskspace)
        found = read_inventory(self.backend, taskspace)
        if found.volume("workspace") is None:
            raise UsageError(f"no taskspace {taskspace!r}" + (" with a workspace" if not found.empty else ""))
        return found

    def read(self, taskspace: str, what: str = "summary", *, full_bundle: bool = False,
             inventory: Inventory | None = None) -> Changes:
        inventory = inventory or self._inventory(taskspace)
        start, branch, _ = self.origin(taskspace, inventory)
        command = ("/bin/sh", "-c", CHANGES_SCRIPT, "symposium-changes", start, branch, what,
                   "full" if full_bundle else "")
        result = self.backend.run_in_workspaces({taskspace: inventory}, command, CHANGES_USER,
                                                self.ctx.settings.images.dev).get(taskspace)
        if result is None:
            raise SymposiumError(f"taskspace {taskspace!r} has no workspace left to read")
        if isinstance(result, SymposiumError):
            raise result
        return parse_changes(taskspace, start, branch, result)

    def target(self, taskspace: str, repo: str, into: str | None) -> Path:
        if into is not None:
            return check_into(into)
        path = Path(repo) if repo.startswith("/") else None
        if path is None or not path.is_dir() or not localgit.is_repository(path):
            raise UsageError(f"taskspace {taskspace!r} was made from {repo or 'a repository'}, which is not a "
                             "repository on this machine", hint="give a local clone: --into PATH")
        return path

    def fetch(self, taskspace: str, into: str | None = None, force: bool = False) -> FetchOutcome:
        inventory = self._inventory(taskspace)
        start, branch, repo = self.origin(taskspace, inventory)
        target = self.target(taskspace, repo, into)
        full = start not in localgit.present(target, [start])
        changes = self.read(taskspace, "bundle", full_bundle=full, inventory=inventory)
        if not changes.tip:
            raise SymposiumError(f"the branch {branch} is gone from taskspace {taskspace}: nothing to fetch",
                                 hint=f"see what it holds: symposium-tui diff {taskspace}")
        if not changes.bundle and changes.tip != start:
            raise SymposiumError(f"taskspace {taskspace} sent no commits for {branch}")
        with tempfile.TemporaryDirectory(prefix="symposium-fetch-") as tmp:
            if changes.bundle:
                bundle = Path(tmp) / "taskspace.bundle"
                bundle.write_bytes(changes.bundle)
                fetched = localgit.fetch_bundle(target, bundle, f"refs/heads/{branch}", branch, changes.tip, force)
            else:  # no commits since the start: the branch is made at the start commit
                fetched = localgit.fetch_bundle(target, None, "", branch, start, force)
        record = {"into": str(target), "branch": branch, "head": fetched.head,
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}

        def remember(entries: dict) -> None:
            if isinstance(entries.get(taskspace), dict):
                entries[taskspace]["fetched"] = record
        self.ctx.registry.update(remember)
        return FetchOutcome(taskspace, str(target), branch, fetched.head, fetched.before, changes.commit_count,
                            fetched.lost, changes.uncommitted)
