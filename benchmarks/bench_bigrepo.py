"""8. A big repository (issue #23): a generated one of more than 1 GB of working tree in 4,000
data files, with 3,000 commits of history. The first taskspace's create (the base's first
generation: every object fetched, the tree checked out) against a plain `git clone` of it; the
second taskspace of the same commit against a tiny repository's create; the disk ten taskspaces
use against one clone plus their own changes; and a taskspace at a new commit: the time and the
disk its generation costs against the first create and a clone."""

from __future__ import annotations

import base64
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from benchmarks.common import Bench, Result, median_time

VERSION = 1  # of the generated repository: a change to the recipe below makes a new one
DIRS, FILES_PER_DIR, FILE_BYTES = 40, 100, 256 * 1024  # 4,000 files, 1,048,576,000 bytes
HISTORY = 3000  # small commits after the bulk ones
CHANGE_BYTES = 1024 * 1024  # what each of the ten taskspaces writes


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "symposium-bench" / f"bigrepo-v{VERSION}"


def _text(size: int) -> bytes:
    """Source-like bytes that compress about as well as code does (base64 lines of random bytes)."""
    return base64.encodebytes(os.urandom(size * 3 // 4 + 3))[:size]


def make_big_repo(path: Path, log) -> Path:
    """The repository, made once with git fast-import and kept in the cache dir (about 2 GB with
    its objects); `path/.complete` says it was made whole."""
    if (path / ".git" / "symposium-bench-complete").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    log(f"generating a {DIRS * FILES_PER_DIR * FILE_BYTES / 1e9:.2f} GB repository with {HISTORY} commits "
        f"in {path} (once)…")
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert importer.stdin is not None
    write = importer.stdin.write
    when = 1_600_000_000

    def commit(message: str, changes: list[tuple[str, bytes]]) -> None:
        nonlocal when
        when += 600
        text = message.encode()
        write(f"commit refs/heads/main\ncommitter Bench <bench@example.com> {when} +0000\n"
              f"data {len(text)}\n".encode() + text + b"\n")
        for name, data in changes:
            write(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")
        write(b"\n")

    commit("README", [("README.md", b"# big\n\nA generated repository for the benchmarks.\n")])
    for d in range(DIRS):
        commit(f"data {d}", [(f"data/d{d:02d}/f{f:03d}.txt", _text(FILE_BYTES)) for f in range(FILES_PER_DIR)])
    for i in range(HISTORY):
        commit(f"change {i}", [(f"src/mod{i % 50:02d}.txt", f"version {i}\n".encode() * 40)])
    importer.stdin.close()
    if importer.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)
    (path / ".git" / "symposium-bench-complete").write_text("")
    return path


def _git(path: Path, *args: str) -> str:
    identity = ["-c", "user.email=b@example.com", "-c", "user.name=Bench"]
    return subprocess.run(["git", "-C", str(path), *identity, *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _du(*paths: str | Path) -> int:
    """Bytes of disk the paths take (one du, so a file hard-linked from two of them counts once;
    sparse files count what they hold)."""
    out = subprocess.run(["du", "-s", "-c", "-B1", *map(str, paths)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return int(out[-1].split()[0])


def run(bench: Bench) -> list[Result]:
    from symposium_tui.core import labels as L
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.lifecycle import Lifecycle

    big = make_big_repo(cache_dir(), bench.log)
    _git(big, "reset", "-q", "--hard", "main")  # as made (an earlier run's new commit was on another branch)
    tree_bytes = _du(big) - _du(big / ".git")
    files = int(_git(big, "ls-files", "-z").count("\0"))
    commits = int(_git(big, "rev-list", "--count", "main"))
    bench.log(f"big repository: {tree_bytes / 1e9:.2f} GB of tree, {files} files, {commits} commits")
    lifecycle = Lifecycle(bench.ctx)
    repo = parse_repo(str(big))
    tiny = parse_repo(str(bench.repo))
    counter = iter(range(10_000))
    runs = max(1, bench.runs // 2)

    def create(spec, name: str | None = None) -> str:
        name = name or f"big-{next(counter)}"
        Creator(bench.ctx).create(CreateRequest(name, spec, project_type="none", tier="minimal"))
        return name

    def remove_all() -> None:
        for t in lifecycle.list().taskspaces:
            lifecycle.remove(t.id, force=True, purge_state=True)

    def drop_base() -> None:
        remove_all()
        if bench.engine.volume(repo.base_volume) is not None:
            bench.engine.remove_volume(repo.base_volume)

    # 1. The first taskspace (a whole generation) against `git clone` of the same repository.
    clone_dir = bench.home / "clone"
    clone = median_time(lambda: subprocess.run(["git", "clone", "-q", str(big), str(clone_dir)], check=True),
                        runs, before=lambda: shutil.rmtree(clone_dir, ignore_errors=True))
    clone_bytes = _du(clone_dir)
    first = median_time(lambda: create(repo), runs, before=drop_base)
    results = [Result("big repo", f"first taskspace's create ({tree_bytes / 1e9:.2f} GB tree, {files} files, "
                      f"{commits} commits)", first, "`git clone` of it", clone, "<= 1.2x", limit=1.2)]

    # 2. The second taskspace of the same commit against a tiny repository's create (its base warm).
    create(tiny)
    second = median_time(lambda: create(repo), bench.runs)
    small = median_time(lambda: create(tiny), bench.runs)
    results.append(Result("big repo", "second taskspace of the same commit", second,
                          "a tiny repository's create", small, "<= 1.2x", limit=1.2))
    remove_all()

    # 3. Ten taskspaces, each with its own change, against one clone plus the ten changes.
    names = [create(repo, f"big-ten-{i}") for i in range(10)]
    for name in names:
        done = bench.engine.exec(f"taskspace-{name}-dev", [
            "sh", "-c", f"head -c {CHANGE_BYTES} /dev/urandom > /workspace/change.bin && sync"])
        if done.exit_code != 0:
            raise RuntimeError(f"writing a change in {name} failed: {done.stderr}")
    ours = [v for v in bench.engine.volumes() if v.labels.get(L.TASKSPACE, "").startswith("big-ten-")
            or v.name == repo.base_volume]
    # What holds bytes: the base, each project disk (the sparse file its layer and cache live in)
    # and agent state. The project, workspace and build-cache volumes are views of those.
    held = [v.mountpoint for v in ours if v.name == repo.base_volume
            or v.labels.get(L.ROLE) in ("project-disk", "agent-state")]
    used = _du(*held)
    results.append(Result("big repo", "disk used by ten taskspaces of it, 1 MiB changed in each", used,
                          "one clone + the ten changes", clone_bytes + 10 * CHANGE_BYTES, "<= 1.1x", limit=1.1,
                          unit="B"))
    remove_all()

    # 4. A new commit (two data files replaced, one small file changed): the taskspace at it makes
    # a new generation from the newest one.
    base_dir = bench.engine.volume(repo.base_volume).mountpoint
    before = _du(base_dir)
    times = []
    for i in range(runs):
        _git(big, "checkout", "-q", "-B", "bench-new", "main")
        for name in ("data/d00/f000.txt", "data/d17/f042.txt"):
            (big / name).write_bytes(_text(FILE_BYTES))
        (big / "src" / "mod00.txt").write_text(f"new commit {time.time()} {i}\n")
        _git(big, "commit", "-q", "-am", f"a new commit {i}")
        started = time.perf_counter()
        create(repo)
        times.append(time.perf_counter() - started)
    _git(big, "checkout", "-q", "main")
    added = (_du(base_dir) - before) / runs
    remove_all()
    results.append(Result("big repo", "a new commit's taskspace (its generation made from the newest)",
                          statistics.median(times), "the first taskspace's create", first, "<= 0.25x",
                          limit=0.25))
    results.append(Result("big repo", "disk a new commit's generation adds (the commit brings 512 KiB "
                          "of files)", added, "one clone", clone_bytes, "<= 0.05x", limit=0.05,
                          unit="B"))
    shutil.rmtree(clone_dir, ignore_errors=True)
    return results
