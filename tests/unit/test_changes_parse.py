"""#19: what a taskspace's changes script answers is data its agent can shape: parsed exactly, or
refused as a whole. And --ref/--branch are refused before any engine call when git would not take
them (or would read them as options)."""

from __future__ import annotations

import base64

import pytest

from symposium_tui.core.errors import SymposiumError, UsageError
from symposium_tui.core.models import ExecResult
from symposium_tui.core.repos import validate_branch, validate_ref
from symposium_tui.core.services.changes import parse_changes
from symposium_tui.core.services.lifecycle import UnsavedWork
from tests.helpers import assert_clean_failure, run_cli

START, HEAD = "1" * 40, "2" * 40


def m(name: str) -> str:
    return f"\0\0@{name}\0\0"


def answer(numstat: str = "3\t1\tsrc/a.py\0", names: str = "M\0src/a.py\0", end: bool = True,
           extra: str = "") -> ExecResult:
    out = (m("head") + HEAD + "\n" + m("tip") + HEAD + m("on") + "refs/heads/taskspace/t\n"
           + m("count") + "1\n" + m("commits") + f"{HEAD} fix the thing\0"
           + m("status") + " M src/a.py\0?? new file.txt\0" + m("numstat") + numstat + m("names") + names
           + extra + (m("end") if end else ""))
    return ExecResult(0, out, "")


def test_a_well_formed_answer():
    changes = parse_changes("t", START, "taskspace/t", answer())
    assert (changes.head, changes.tip, changes.checked_out, changes.commit_count) == (HEAD, HEAD, "taskspace/t", 1)
    assert [(c.sha, c.subject) for c in changes.commits] == [(HEAD, "fix the thing")]
    assert [f.as_dict() for f in changes.files] == [{"path": "src/a.py", "status": "modified", "added": 3,
                                                     "removed": 1}]
    assert changes.uncommitted == (" M src/a.py", "?? new file.txt")
    assert changes.summary() == "+3 −1 · 1c"


def test_paths_are_data_whatever_they_hold():
    odd = "we\nird\x1b[31m@x.txt"
    changes = parse_changes("t", START, "taskspace/t", answer(f"-\t-\t{odd}\0", f"A\0{odd}\0"))
    [file] = changes.files
    assert (file.path, file.status, file.added, file.removed) == (odd, "added", None, None)  # binary


def test_an_answer_cut_short_or_damaged_is_refused_whole():
    with pytest.raises(SymposiumError, match="reading the changes of t failed"):
        parse_changes("t", START, "taskspace/t", answer(end=False))
    with pytest.raises(SymposiumError, match="came back damaged"):
        parse_changes("t", START, "taskspace/t", answer(extra=m("bundle") + "not*base64"))
    ok = parse_changes("t", START, "taskspace/t", answer(extra=m("bundle") + base64.b64encode(b"# v2 git bundle").decode()))
    assert ok.bundle == b"# v2 git bundle"
    with pytest.raises(SymposiumError, match="not a git repository"):
        parse_changes("t", START, "taskspace/t", ExecResult(3, "", ""))
    with pytest.raises(SymposiumError, match="no longer in its repository"):
        parse_changes("t", START, "taskspace/t", ExecResult(4, "", ""))


def test_a_fake_head_is_not_believed():
    bad = answer().stdout.replace(HEAD + "\n" + m("tip"), "$(rm -rf /)\n" + m("tip"))
    changes = parse_changes("t", START, "taskspace/t", ExecResult(0, bad, ""))
    assert changes.head == ""


def test_unsaved_work_says_exactly_what_is_not_saved():
    work = UnsavedWork(("M a.txt", "?? b.txt"), (f"{HEAD} one", f"{'3' * 40} two", f"{'4' * 40} three"))
    assert work.describe() == "3 commits not fetched (2222222 one, 3333333 two, 4444444 three), " \
                              "2 files changed (M a.txt, ?? b.txt)"
    assert work.saved_in({HEAD, "3" * 40}).describe() == "1 commit not fetched (4444444 three), " \
                                                          "2 files changed (M a.txt, ?? b.txt)"


@pytest.mark.parametrize("ref", ["-x", "--upload-pack=touch /tmp/x", "main~2", "a..b", "x@{1}", "a b", "tag:x",
                                 "", "/x", "x.lock", "x/.hidden", "\x1b"])
def test_refs_git_would_not_take_are_refused(ref):
    with pytest.raises(UsageError):
        validate_ref(ref)


@pytest.mark.parametrize("ref", ["main", "v1.2.3", "feature/login", "HEAD", "1a2b3c4d"])
def test_refs_that_are_fine(ref):
    assert validate_ref(ref) == ref


def test_branches():
    assert validate_branch("taskspace/fix-1") == "taskspace/fix-1"
    for bad in ("HEAD", "-b", "a//b", "a/", "x..y"):
        with pytest.raises(UsageError):
            validate_branch(bad)


def test_create_and_fetch_refuse_bad_arguments_before_any_engine(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    for flag, value, said in (("--ref", "main~1", "--ref 'main~1'"), ("--branch", "a..b", "--branch 'a..b'")):
        result = run_cli("--url", "unix:///nonexistent/podman.sock", "create", "x1", "--repo", str(tmp_path / "r"),
                         flag, value)
        assert_clean_failure(result, 2)
        assert said in result.stderr
    result = run_cli("--url", "unix:///nonexistent/podman.sock", "fetch", "x1", "--into", str(tmp_path / "nope"))
    assert_clean_failure(result, 2)
    assert "not a git repository" in result.stderr
