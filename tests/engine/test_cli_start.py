"""The CLI as a person runs it (issue #23): read-only commands import only what they use.

The budget is on what `python -X importtime` lists (which modules a command loads), not on its
times: those are measured in the benchmarks (`python -m benchmarks --only ls`), as ratios in one
run, since a timed test on these shared machines would fail on a busy day, not on a slow change.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.engine

# What no read-only command needs: the dashboard, the other commands' modules, the services of
# what they do not do, the image builders.
NOT_NEEDED = ("textual", "symposium_tui.ui", "symposium_tui.cli.agent", "symposium_tui.cli.cleanup",
              "symposium_tui.cli.resources", "symposium_tui.cli.system", "symposium_tui.core.services.cleanup",
              "symposium_tui.core.services.kube", "symposium_tui.core.services.security",
              "symposium_tui.backends.podman.images", "symposium_tui.backends.podman.definition",
              "symposium_tui.core.definition", "hypothesis", "pytest")
# Modules each may load at most (all of them: Python's, podman-py's with requests and rich, ours);
# before this budget, `ls` loaded 529 even when it could not reach its engine.
BUDGET = 500


def imported(*args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "symposium_tui", *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode in (0, 1, 2), done.stderr[-2000:]  # diff of no such taskspace: 2
    return [line.split("|")[-1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "self [us]" not in line]


@pytest.mark.parametrize("command", [["ls", "--json"], ["health", "--json"], ["ssh-config"], ["diff", "nothing-here"]])
def test_a_read_only_command_imports_only_what_it_uses(isolated, command):
    modules = imported("--url", isolated.uri, *command)
    assert "symposium_tui.backends.podman.adapter" in modules  # it did talk to the engine
    print(len(modules), "modules")
    extra = [m for m in modules if m.split(".")[0] in ("textual", "hypothesis", "pytest")
             or any(m == n or m.startswith(n + ".") for n in NOT_NEEDED)]
    assert extra == []
    assert len(modules) <= BUDGET, len(modules)


def test_help_loads_no_engine_client():
    modules = imported("--help")
    assert not [m for m in modules if m.split(".")[0] in ("podman", "requests", "urllib3", "yaml", "textual")]
    assert not [m for m in modules if m.startswith("symposium_tui.cli.") and m not in
                ("symposium_tui.cli.parser", "symposium_tui.cli.common", "symposium_tui.cli.output")]
