"""`exec ID`: a shell or a command through the engine, not SSH (issue #24), on the real isolated
engine: it works on a taskspace whose sshd was killed, as the containers' user in /workspace, with
stdin, stdout, stderr and the exit code passed through, and with a terminal when there is one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.engine.test_lifecycle import create, discard
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def test_exec_works_without_sshd_both_containers_with_and_without_a_terminal(isolated, ctx, lifecycle, repo, engine):
    create(ctx, "ex", repo)
    try:
        for role in ("dev", "agent"):
            killed = engine.exec(f"taskspace-ex-{role}", ["pkill", "-x", "sshd"])
            assert killed.exit_code == 0, killed.stderr
        done = run_cli("--url", isolated.uri, "exec", "ex", "--", "sh", "-c",
                       "id -u; pwd; cat; echo to-stderr >&2; exit 3", input_text="from stdin\n")
        assert done.returncode == 3, done.stderr
        assert done.stdout == "1000\n/workspace\nfrom stdin\n"
        assert "to-stderr" in done.stderr
        agent = run_cli("--url", isolated.uri, "exec", "ex", "--agent", "--", "cat", "/workspace/README.md")
        assert (agent.returncode, agent.stdout) == (0, "hello\n")
        big = run_cli("--url", isolated.uri, "exec", "ex", "--", "head", "-c", "3000000", "/dev/zero")
        assert big.returncode == 0 and len(big.stdout) == 3_000_000  # frames split across reads

        # with a terminal: a login shell by default, typed into through a pty
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "exec", "ex"],
                                stdin=follower, stdout=follower, stderr=follower, close_fds=True)
        os.close(follower)
        os.write(leader, b"echo tty=$(tty) sum=$((6*7)); exit 5\n")
        seen = b""
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        proc.wait(10)
        os.close(leader)
        assert proc.returncode == 5, seen
        assert b"sum=42" in seen and b"tty=/dev/pts/" in seen
    finally:
        discard(lifecycle, "ex")


def test_exec_refuses_what_cannot_run_with_a_clear_message(isolated, ctx, lifecycle, repo):
    assert_clean_failure(run_cli("--url", isolated.uri, "exec", "Not_An_Id"), 2)
    missing = run_cli("--url", isolated.uri, "exec", "no-such-taskspace", "--", "true")
    assert_clean_failure(missing, 1)
    assert "no taskspace no-such-taskspace" in missing.stderr
    create(ctx, "ex-stopped", repo)
    try:
        lifecycle.stop("ex-stopped")
        stopped = run_cli("--url", isolated.uri, "exec", "ex-stopped", "--", "true")
        assert_clean_failure(stopped, 1)
        assert "not running" in stopped.stderr and "start ex-stopped" in stopped.stderr
    finally:
        discard(lifecycle, "ex-stopped")
