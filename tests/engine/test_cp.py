"""`cp` (issue #24) on the real isolated engine: bytes round-trip both ways, for a running and a
stopped taskspace, dev or agent container; links the container made are followed inside it or
refused, never to this machine's files."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from tests.engine.test_lifecycle import create, discard
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def cp(isolated, *args: str):
    return run_cli("--url", isolated.uri, "cp", *args)


def inside(engine, container: str, script: str, user: str = "1000") -> str:
    done = engine.exec(container, ["sh", "-c", script], user=user)
    assert done.exit_code == 0, done.stderr
    return done.stdout


def test_cp_round_trips_and_never_reaches_this_machines_files(isolated, ctx, lifecycle, repo, engine, tmp_path):
    create(ctx, "cpy", repo)
    dev = "taskspace-cpy-dev"
    try:
        # in and out again: a file's bytes, owned by the containers' user
        payload = secrets.token_bytes(300_000) + b"\x00\n\r\x1b"
        (tmp_path / "data.bin").write_bytes(payload)
        done = cp(isolated, str(tmp_path / "data.bin"), "cpy:data.bin")
        assert done.returncode == 0, done.stderr
        assert "copied 1 file" in done.stdout and "cpy:/workspace/data.bin" in done.stdout
        assert inside(engine, dev, "stat -c %u /workspace/data.bin").strip() == "1000"
        out = tmp_path / "back"
        out.mkdir()
        assert cp(isolated, "cpy:/workspace/data.bin", str(out)).returncode == 0
        assert (out / "data.bin").read_bytes() == payload

        # a folder with a link inside it that stays inside, and one to a path of this machine's
        secret = tmp_path / f"host-only-{secrets.token_hex(4)}"
        secret.write_text("this machine's file\n")
        folder = tmp_path / "tree"
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "a.txt").write_text("a\n")
        (folder / "rel").symlink_to("sub/a.txt")
        assert cp(isolated, str(folder), "cpy:").returncode == 0  # into /workspace
        inside(engine, dev, f"ln -s {secret} /workspace/tree/to-host; ln -s /etc/hostname /workspace/hostname-link; "
                            f"ln -s {secret} /workspace/straight-to-host")
        listed = cp(isolated, "--json", "cpy:tree", str(tmp_path / "tree-out"))
        assert listed.returncode == 0, listed.stderr
        report = json.loads(listed.stdout)
        assert (tmp_path / "tree-out" / "sub" / "a.txt").read_text() == "a\n"
        assert os.readlink(tmp_path / "tree-out" / "rel") == "sub/a.txt"  # inside what was copied: kept
        assert not os.path.lexists(tmp_path / "tree-out" / "to-host")  # outside: left out, and said
        assert any("to-host" in s and "outside what was copied" in s for s in report["skipped"]), report
        assert report["files"] == 1 and report["links"] == 1

        # a link named at the top: its target INSIDE the container is copied, not this machine's
        container_hostname = inside(engine, dev, "cat /etc/hostname")
        done = cp(isolated, "cpy:hostname-link", str(tmp_path / "h"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "h").read_text() == container_hostname
        assert not (tmp_path / "h").is_symlink() and "is a link in the container" in done.stderr
        refused = cp(isolated, "cpy:straight-to-host", str(tmp_path / "s"))  # no such path inside: refused
        assert_clean_failure(refused, 1)
        assert not os.path.lexists(tmp_path / "s")

        # a local link where the file goes is replaced, not written through
        victim = tmp_path / "victim.txt"
        victim.write_text("keep me\n")
        (tmp_path / "trap").symlink_to(victim)
        assert cp(isolated, "cpy:README.md", str(tmp_path / "trap")).returncode == 0
        assert victim.read_text() == "keep me\n" and not (tmp_path / "trap").is_symlink()

        # the agent container's own files
        (tmp_path / "for-agent").write_text("agent\n")
        assert cp(isolated, "--agent", str(tmp_path / "for-agent"), "cpy:/tmp/for-agent").returncode == 0
        assert inside(engine, "taskspace-cpy-agent", "cat /tmp/for-agent") == "agent\n"
        assert cp(isolated, "cpy:/tmp/for-agent", str(tmp_path / "x")).returncode == 1  # not in dev's /tmp

        # stopped: out of and into its workspace (a volume the engine mounts only at start)
        lifecycle.stop("cpy")
        stopped_out = tmp_path / "stopped-out.bin"
        done = cp(isolated, "cpy:data.bin", str(stopped_out))
        assert done.returncode == 0, done.stderr
        assert stopped_out.read_bytes() == payload
        (tmp_path / "while-stopped.txt").write_text("written while stopped\n")
        assert cp(isolated, str(tmp_path / "while-stopped.txt"), "cpy:notes/").returncode == 1  # no such folder
        done = cp(isolated, str(tmp_path / "while-stopped.txt"), "cpy:")
        assert done.returncode == 0, done.stderr
        assert isolated.cli("ps", "-a", "--filter", "label=io.symposium.role=probe", "-q").stdout.strip() == ""
        tmp_refused = cp(isolated, str(tmp_path / "while-stopped.txt"), "cpy:/tmp/")  # a tmpfs, emptied at start
        assert_clean_failure(tmp_refused, 1)
        assert "tmpfs" in tmp_refused.stderr
        link_refused = cp(isolated, "cpy:hostname-link", str(tmp_path / "h2"))  # followed in a probe: refused
        assert_clean_failure(link_refused, 1)
        assert "outside the taskspace's volumes" in link_refused.stderr and not os.path.lexists(tmp_path / "h2")
        lifecycle.start("cpy")
        assert inside(engine, dev, "cat /workspace/while-stopped.txt; stat -c %u /workspace/while-stopped.txt") == \
            "written while stopped\n1000\n"
    finally:
        discard(lifecycle, "cpy")


@pytest.mark.parametrize("args, code", [
    (("a", "b"), 2),  # both here
    (("cpy-none:a", "cpy-none:b"), 2),  # both in taskspaces
    (("Bad_Id:x", "."), 2),
    (("/no/such/local/file", "cpy-none:x"), 2),
    (("cpy-none:x", "."), 1),  # no such taskspace
])
def test_cp_refuses_bad_arguments(isolated, args, code):
    assert_clean_failure(cp(isolated, *args), code)


def test_a_local_path_with_a_colon_is_written_with_a_slash(tmp_path):
    from symposium_tui.core.copying import parse_endpoint

    assert parse_endpoint("./a:b").taskspace is None
    assert parse_endpoint("fix:src/x").path == "/workspace/src/x"
    assert parse_endpoint("fix:/etc/x").path == "/etc/x"
    assert parse_endpoint("fix:").path == "/workspace"
    assert Path(parse_endpoint(str(tmp_path / "a:b")).path) == tmp_path / "a:b"
