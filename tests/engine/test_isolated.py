"""The test harness's own hygiene: engines of killed processes are reaped by the next one."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symposium_tui.engine.connection import podman_binary
from symposium_tui.engine.isolated import reap_stale

pytestmark = pytest.mark.engine

STARTER = """
from symposium_tui.engine.isolated import IsolatedEngine
iso = IsolatedEngine().start()
iso.cli("volume", "create", "leftover")
print(iso.dir, flush=True)
import time; time.sleep(300)
"""


def test_a_killed_sessions_engine_is_reaped():
    proc = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    directory = Path(proc.stdout.readline().strip())
    try:
        assert (directory / "root").is_dir()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        old = time.time() - 3600
        os.utime(directory, (old, old))
        assert directory in reap_stale(podman_binary(), keep=Path("/nowhere"))
        assert not directory.exists()
        assert str(directory) not in Path("/proc/mounts").read_text()
    finally:
        proc.kill()
