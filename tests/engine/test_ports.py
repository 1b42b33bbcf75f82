"""`ports ID` and `forward ID PORT` (issue #24) on the real isolated engine: a web server started in
the dev container is listed and answers on this machine's 127.0.0.1 through the taskspace's SSH."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from symposium_tui.core.taskspace import AGENT_SSH_PORT, DEV_SSH_PORT
from tests.engine.test_lifecycle import create, discard
from tests.helpers import assert_clean_failure, run_cli, wait_until

pytestmark = pytest.mark.engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dev_server_inside_is_listed_and_forwarded_to_loopback_here(isolated, ctx, lifecycle, repo):
    create(ctx, "fw", repo, project_type="node+python")
    try:
        started = run_cli("--url", isolated.uri, "exec", "fw", "--", "sh", "-c",
                          "nohup python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &")
        assert started.returncode == 0, started.stderr

        def listed():
            done = run_cli("--url", isolated.uri, "ports", "fw", "--json")
            assert done.returncode == 0, done.stderr
            return {p["port"]: p for p in json.loads(done.stdout)["listening"]}
        ports = wait_until(lambda: (p := listed()) and 8765 in p and p, 20, "the server to listen")
        assert ports[8765]["loopback_only"] and not ports[8765]["ours"]
        assert sorted(p for p, v in ports.items() if v["ours"]) == [DEV_SSH_PORT, AGENT_SSH_PORT]  # the pod's sshds
        text = run_cli("--url", isolated.uri, "ports", "fw")
        assert "8765" in text.stdout and "forward fw 8765" in text.stdout

        local = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "forward", "fw", "8765",
                                 "--local", str(local)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def page():
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=2) as response:
                        return response.read().decode()
                except OSError:
                    return None
            body = wait_until(page, 30, "the forwarded port to answer")
            assert "README.md" in body  # the server's listing of /workspace
            taken = run_cli("--url", isolated.uri, "forward", "fw", "8765", "--local", str(local))
            assert_clean_failure(taken, 1)
            assert f"127.0.0.1:{local} is taken" in taken.stderr
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        time.sleep(0.2)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", local), timeout=1).close()
    finally:
        discard(lifecycle, "fw")
