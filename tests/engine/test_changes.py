"""Fresh code in, reviewed work out (issue #19), on the real isolated engine: each taskspace starts
from the repository's commit as it is now, on its own branch, over a shared base of generations;
diff and fetch bring its work back without git on this machine ever reading its repository."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.repos import parse_repo
from symposium_tui.core.services.changes import TaskspaceChanges
from symposium_tui.core.services.create import CreateRequest, Creator
from symposium_tui.core.services.cleanup import Cleanup
from tests.engine.conftest import inventory, make_repo
from tests.engine.test_lifecycle import create, discard, ssh
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine

IDENTITY = ["-c", "user.email=t@example.com", "-c", "user.name=Test"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def du(path: str) -> int:
    """Bytes in use under PATH, each hard-linked file counted once (as du does)."""
    return int(subprocess.run(["du", "-s", "-B1", path], check=True, capture_output=True,
                              text=True).stdout.split()[0])


def in_workspace(ctx, taskspace: str, command: str) -> str:
    done = ssh(ctx, f"{taskspace}-dev", f"cd /workspace && {command}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path) -> Path:
    """A repository with some weight (so a second full copy would show), a tag and a branch."""
    repo = make_repo(tmp_path / "weighty", {"README.md": "hello\n"})
    data = tmp_path / "weighty" / "data"
    data.mkdir()
    for n in range(8):
        (data / f"blob{n}.bin").write_bytes(os.urandom(256 * 1024))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "data")
    git(repo, "tag", "v1")
    git(repo, "branch", "feature")
    commit_file(repo, "feature.txt", "on feature\n", "feature work")  # on main, moved below
    git(repo, "branch", "-f", "feature", "HEAD")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    return repo


def test_each_taskspace_starts_from_the_commit_as_it_is_now_on_its_own_branch(isolated, ctx, lifecycle, project):
    first = git(project, "rev-parse", "HEAD")
    names = ["gen-a", "gen-b", "gen-tag", "gen-branch", "gen-sha", "gen-wt"]
    try:
        a = create(ctx, "gen-a", project)
        assert a.start == first and a.branch == "taskspace/gen-a"
        base = ctx.backend.find("volume", parse_repo(str(project)).base_volume)
        full = du(f"{base.mountpoint}/gen/{first}")
        before = du(base.mountpoint)

        second = commit_file(project, "README.md", "hello again\n", "newer")
        b = create(ctx, "gen-b", project)
        assert b.start == second
        assert in_workspace(ctx, "gen-b", "git rev-parse HEAD; git symbolic-ref HEAD; cat README.md") == \
            f"{second}\nrefs/heads/taskspace/gen-b\nhello again"
        assert in_workspace(ctx, "gen-b", "git status --porcelain") == ""
        # A is unchanged: its own start commit, its own branch, its files as they were
        assert in_workspace(ctx, "gen-a", "git rev-parse HEAD; git symbolic-ref --short HEAD; cat README.md") == \
            f"{first}\ntaskspace/gen-a\nhello"
        # B's generation shares A's files and objects: a small part of a full copy
        grown = du(base.mountpoint) - before
        assert grown < full * 0.2, (grown, full)

        # --ref: a tag, a branch (with a branch name of one's own) and a commit, each where it says
        tagged = create(ctx, "gen-tag", project, ref="v1")
        assert tagged.start == git(project, "rev-parse", "v1^{commit}") == first
        branched = create(ctx, "gen-branch", project, ref="feature", branch="work/feature-x")
        assert branched.start == git(project, "rev-parse", "feature")
        assert in_workspace(ctx, "gen-branch", "git symbolic-ref --short HEAD; cat feature.txt") == \
            "work/feature-x\non feature"
        by_sha = create(ctx, "gen-sha", project, ref=first[:12])
        assert by_sha.start == first
        # a worktree of the repository (its .git is a file naming a folder elsewhere) works too
        worktree = project.parent / "weighty-wt"
        git(project, "worktree", "add", "-q", "-b", "wt", str(worktree), "feature")
        from_worktree = create(ctx, "gen-wt", worktree)
        assert from_worktree.start == git(project, "rev-parse", "feature")
        assert in_workspace(ctx, "gen-wt", "cat feature.txt") == "on feature"
        # recorded: labels, registry, ls --json
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]
        row = next(t for t in listed if t["id"] == "gen-branch")
        assert (row["start"], row["branch"]) == (branched.start, "work/feature-x")
        assert ctx.registry.read()["gen-b"]["start"] == second
        pod = ctx.backend.find("pod", "taskspace-gen-tag")
        assert pod.labels[L.START] == first and pod.labels[L.BRANCH] == "taskspace/gen-tag"
        # the same commit shares one generation
        assert sorted(g.commit for g in ctx.backend.generations(base.name, ctx.settings.images.agent)) == \
            sorted({first, second, branched.start})  # the worktree's is a base of its own (another path)
    finally:
        for name in names:
            discard(lifecycle, name)


def test_a_new_commits_generation_fetches_only_what_it_brings_with_no_tag_in_common(tmp_path, ctx, lifecycle):
    """No tag in common to negotiate with: the generation before it tells the fetch what it has
    (its remote-tracking refs), so a new commit's objects travel, not the whole history again."""
    repo = make_repo(tmp_path / "untagged", {"README.md": "hello\n"})
    (repo / "data").mkdir()
    for n in range(8):
        (repo / "data" / f"blob{n}.bin").write_bytes(os.urandom(256 * 1024))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "data")
    try:
        first = create(ctx, "gen-untagged-a", repo).start
        base = ctx.backend.find("volume", parse_repo(str(repo)).base_volume)
        full = du(f"{base.mountpoint}/gen/{first}")
        before = du(base.mountpoint)
        second = commit_file(repo, "README.md", "hello again\n", "newer")
        assert create(ctx, "gen-untagged-b", repo).start == second
        grown = du(base.mountpoint) - before
        assert grown < full * 0.2, (grown, full)  # a second copy of the 2 MiB of objects would be ~50 %
        assert in_workspace(ctx, "gen-untagged-b", "git status --porcelain; cat README.md") == "hello again"
    finally:
        for name in ("gen-untagged-a", "gen-untagged-b"):
            discard(lifecycle, name)


def test_a_ref_that_names_nothing_is_refused_before_anything_is_made(isolated, ctx, project):
    before = inventory(isolated)
    result = run_cli("--url", isolated.uri, "create", "no-such-ref", "--repo", str(project), "--ref", "nope")
    assert_clean_failure(result, 2)
    assert "nope" in result.stderr and "no branch, tag or commit" in result.stderr
    result = run_cli("--url", isolated.uri, "create", "bad-branch", "--repo", str(project),
                     "--branch", "a..b")
    assert_clean_failure(result, 2)
    assert inventory(isolated) == before


def test_diff_fetch_and_rm_see_committed_and_uncommitted_work(isolated, ctx, lifecycle, project):
    try:
        (project / "scratch.txt").write_text("not committed\n")  # not carried over, and said so
        creator = Creator(ctx)
        ts = creator.create(CreateRequest("review-me", parse_repo(str(project))))
        assert any("1 uncommitted change(s)" in n and "not carried over" in n for n in creator.notes), creator.notes
        assert in_workspace(ctx, "review-me", "ls scratch.txt 2>/dev/null | wc -l") == "0"
        in_workspace(ctx, "review-me", "echo 'new line' >> README.md && git add README.md && "
                                      "git -c user.email=a@x -c user.name=agent commit -qm 'agent change' && "
                                      "printf 'one\\ntwo\\n' > notes.txt && echo tweak >> data/../README.md")
        out = run_cli("--url", isolated.uri, "diff", "review-me", "--json")
        assert out.returncode == 0, out.stderr
        found = json.loads(out.stdout)
        assert found["start"] == ts.start and found["branch"] == "taskspace/review-me"
        assert [c["subject"] for c in found["commits"]] == ["agent change"]
        files = {f["path"]: f for f in found["files"]}
        assert files["README.md"]["status"] == "modified" and files["README.md"]["added"] == 2
        assert files["notes.txt"] == {"path": "notes.txt", "status": "added", "added": 2, "removed": 0}
        assert sorted(found["uncommitted"]) == [" M README.md", "?? notes.txt"]
        patch = run_cli("--url", isolated.uri, "diff", "review-me")
        assert "+new line" in patch.stdout and "+tweak" in patch.stdout and "agent change" in patch.stdout
        assert "diff --git a/notes.txt b/notes.txt" in patch.stdout
        stat = run_cli("--url", isolated.uri, "diff", "review-me", "--stat")
        assert "notes.txt" in stat.stdout and "2 files changed" in stat.stdout

        # rm refuses: the commit and the edits exist only there
        refused = run_cli("--url", isolated.uri, "rm", "review-me")
        assert_clean_failure(refused, 1)
        assert "1 commit not fetched" in refused.stderr and "2 files changed" in refused.stderr

        fetched = run_cli("--url", isolated.uri, "fetch", "review-me")
        assert fetched.returncode == 0, fetched.stderr
        assert "2 uncommitted change(s) stay in the taskspace" in fetched.stdout
        head = found["branch_head"]
        assert git(project, "rev-parse", "refs/heads/taskspace/review-me") == head
        assert git(project, "log", "-1", "--format=%s", "taskspace/review-me") == "agent change"
        # fetched commits are saved: rm now refuses only for the uncommitted edits
        refused = run_cli("--url", isolated.uri, "rm", "review-me")
        assert_clean_failure(refused, 1)
        assert "2 files changed" in refused.stderr and "not fetched" not in refused.stderr

        # a branch there with commits the taskspace lacks is not moved, unless --force
        git(project, "checkout", "-q", "taskspace/review-me")
        mine = commit_file(project, "mine.txt", "mine\n", "person's own")
        git(project, "checkout", "-q", "main")
        in_workspace(ctx, "review-me", "git -c user.email=a@x -c user.name=agent commit -qam 'second'")
        refused = run_cli("--url", isolated.uri, "fetch", "review-me")
        assert_clean_failure(refused, 2)
        assert "1 commit(s) the taskspace's branch lacks" in refused.stderr
        assert git(project, "rev-parse", "taskspace/review-me") == mine
        forced = run_cli("--url", isolated.uri, "fetch", "review-me", "--force")
        assert forced.returncode == 0, forced.stderr
        assert git(project, "log", "-1", "--format=%s", "taskspace/review-me") == "second"

        # stopped: read through its workspace volume
        lifecycle.stop("review-me")
        stopped = TaskspaceChanges(ctx).read("review-me")
        assert stopped.commit_count == 2 and "?? notes.txt" in stopped.uncommitted
    finally:
        discard(lifecycle, "review-me")


HOSTILE = r"""
set -e
cd /workspace
marker="$1"
hooks=/workspace/.git/evil-hooks
mkdir -p "$hooks"
for hook in pre-commit post-checkout post-merge reference-transaction pre-push post-rewrite fsmonitor-watchman; do
    printf '#!/bin/sh\ntouch %s-hook\n' "$marker" > "$hooks/$hook"; chmod +x "$hooks/$hook"
done
git config core.hooksPath "$hooks"
git config core.fsmonitor "touch $marker-fsmonitor; true"
git config filter.evil.clean "sh -c 'touch $marker-filter; cat'"
git config filter.evil.smudge "sh -c 'touch $marker-filter; cat'"
git config diff.evil.textconv "sh -c 'touch $marker-textconv; cat' --"
git config diff.external "sh -c 'touch $marker-external'"
git config core.pager "sh -c 'touch $marker-pager; cat'"
printf '* filter=evil diff=evil\n' > .gitattributes
echo changed >> README.md
git -c core.hooksPath=/dev/null -c core.fsmonitor=false add .gitattributes
git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c user.email=a@x -c user.name=a commit -qm hostile
rm -f "$marker"-*
"""


def test_a_hostile_repository_never_reaches_this_machine_or_another_taskspace(isolated, ctx, lifecycle, project, tmp_path):
    marker = f"/tmp/symposium-marker-{os.getpid()}"
    try:
        create(ctx, "hostile", project)
        create(ctx, "bystander", project)
        done = ssh(ctx, "hostile-dev", f"sh -c {shlex.quote(HOSTILE)} hostile {marker}")
        assert done.returncode == 0, done.stderr
        # armed: git as the agent runs it there does run them
        armed = ssh(ctx, "hostile-dev", f"cd /workspace && git status >/dev/null 2>&1; git diff >/dev/null 2>&1; "
                                        f"ls {marker}-* && rm -f {marker}-*")
        assert f"{marker}-fsmonitor" in armed.stdout and f"{marker}-filter" in armed.stdout, armed
        changes = TaskspaceChanges(ctx)
        assert changes.read("hostile", "patch").commit_count == 1
        assert run_cli("--url", isolated.uri, "diff", "hostile").returncode == 0
        assert run_cli("--url", isolated.uri, "diff", "hostile", "--stat").returncode == 0
        fetched = run_cli("--url", isolated.uri, "fetch", "hostile")
        assert fetched.returncode == 0, fetched.stderr
        refused = run_cli("--url", isolated.uri, "rm", "hostile")
        assert_clean_failure(refused, 1)
        assert "file" in refused.stderr and "changed" in refused.stderr
        lifecycle.stop("hostile")
        assert changes.read("hostile", "stat").commit_count == 1  # in a probe container now
        plan = run_cli("--url", isolated.uri, "cleanup", "--inactive-for", "0s", "--json")  # reads its work
        assert plan.returncode == 0 and "hostile" in plan.stdout and "changed" in plan.stdout, plan.stderr
        # the person's repository has the commit, checked out nowhere: no filter ran here either
        assert git(project, "log", "-1", "--format=%s", "taskspace/hostile") == "hostile"
        host_markers = sorted(str(p) for p in Path("/tmp").glob(Path(marker).name + "*"))
        assert host_markers == []
        assert not list(Path(project).glob("**/*marker*"))
        elsewhere = ssh(ctx, "bystander-dev", f"ls {marker}* /workspace/*marker* 2>/dev/null | wc -l")
        assert elsewhere.stdout.strip() == "0"
    finally:
        for name in ("hostile", "bystander"):
            discard(lifecycle, name)


def test_gc_volumes_removes_an_unused_generation_and_keeps_one_in_use(isolated, ctx, lifecycle, project):
    try:
        old = create(ctx, "gc-old", project).start
        new_commit = commit_file(project, "later.txt", "later\n", "later")
        create(ctx, "gc-new", project)
        base = parse_repo(str(project)).base_volume
        lifecycle.remove("gc-old", force=True, purge_state=True)
        plan = json.loads(run_cli("--url", isolated.uri, "gc-volumes", "--json").stdout)
        goes = [i for i in plan["items"] if i["kind"] == "generation"]
        keeps = [i for i in plan["kept"] if i["kind"] == "generation"]
        assert [i["volume"] for i in goes] == [f"{base}/{old}"]
        assert [i["volume"] for i in keeps] == [f"{base}/{new_commit}"] and "gc-new" in keeps[0]["why"]
        applied = run_cli("--url", isolated.uri, "gc-volumes", "--apply")
        assert applied.returncode == 0, applied.stderr
        left = [g.commit for g in ctx.backend.generations(base, ctx.settings.images.agent)]
        assert left == [new_commit]
        assert in_workspace(ctx, "gc-new", "git log --oneline | wc -l; cat later.txt") == "3\nlater"
    finally:
        for name in ("gc-old", "gc-new"):
            discard(lifecycle, name)


@pytest.fixture
def served(isolated, project):
    """PROJECT served by `git daemon` on this machine, reached from the engine's containers as a
    git:// URL on their network's gateway (no registry or forge is reachable here)."""
    import socket

    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={project.parent}",
                               "--listen=0.0.0.0", f"--port={port}", str(project.parent)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"git://{isolated.gateway}:{port}/{project.name}"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.mark.network_backends  # the fetch in the container crosses the engine's network: netavark and CNI
def test_a_url_starts_from_its_default_branch_or_a_ref_and_fetches_into_a_clone(
        isolated, ctx, lifecycle, project, served, tmp_path):
    before = inventory(isolated)
    refused = run_cli("--url", isolated.uri, "create", "url-bad", "--repo", served, "--ref", "no-such-tag")
    assert_clean_failure(refused, 2)
    assert "no-such-tag" in refused.stderr and inventory(isolated) == before  # its base was rolled back too
    try:
        main = create(ctx, "url-main", served)
        assert main.start == git(project, "rev-parse", "main") and main.branch == "taskspace/url-main"
        tagged = create(ctx, "url-tag", served, ref="v1")
        assert tagged.start == git(project, "rev-parse", "v1^{commit}")
        assert in_workspace(ctx, "url-tag", "git symbolic-ref --short HEAD; git remote get-url origin") == \
            f"taskspace/url-tag\n{served}"
        in_workspace(ctx, "url-main", "echo more >> README.md && git -c user.email=a@x -c user.name=a "
                                      "commit -qam 'from a url'")
        nowhere = run_cli("--url", isolated.uri, "fetch", "url-main")
        assert_clean_failure(nowhere, 2)
        assert "--into" in nowhere.stderr
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
        fetched = run_cli("--url", isolated.uri, "fetch", "url-main", "--into", str(clone))
        assert fetched.returncode == 0, fetched.stderr
        assert git(clone, "log", "-1", "--format=%s", "taskspace/url-main") == "from a url"
        # fetched into that clone: saved, so rm takes it
        assert lifecycle.unsaved_work("url-main", lifecycle.inventory("url-main")).any is False
    finally:
        for name in ("url-main", "url-tag"):
            discard(lifecycle, name)
