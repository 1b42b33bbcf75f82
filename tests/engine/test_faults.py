"""Faults on the real isolated engine: the product killed in the middle of a create or a level
change."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from symposium_tui.core.paths import app_paths
from symposium_tui.core.services.create import STEPS
from tests.engine.conftest import inventory
from tests.helpers import run_cli

pytestmark = pytest.mark.engine


def leftovers(isolated, taskspace: str) -> dict[str, list[str]]:
    found = {kind: [n for n in names if taskspace in n] for kind, names in inventory(isolated).items()}
    found["init containers"] = isolated.cli("ps", "-a", "--filter", "label=io.symposium.role=init",
                                            "--format", "{{.Names}}").stdout.split()
    rules = subprocess.run(["iptables-save", "-t", "mangle"], capture_output=True, text=True).stdout
    found["firewall rules"] = [line for line in rules.splitlines() if f"taskspace={taskspace}" in line]
    with open("/proc/mounts", encoding="utf-8") as mounts:
        found["mounts"] = [line.split()[1] for line in mounts if f"taskspace-{taskspace}-" in line]
    return {kind: names for kind, names in found.items() if names}


def killed_when(isolated, args: list[str], reached, pause: float, what: str) -> int:
    """Run the CLI with ARGS and SIGKILL it PAUSE seconds after a progress line is `reached`;
    returns its pid."""
    proc = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if reached(line):
                time.sleep(pause)
                break
        else:
            raise AssertionError(f"{what}: exit {proc.wait()}")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.pid


def create_killed_at(isolated, repo, taskspace: str, step: int) -> None:
    """Start `create`, and SIGKILL it once it reports step `step` (a moment into that step)."""
    killed_when(isolated, ["create", taskspace, "--repo", str(repo), "--security", "isolated"],
                lambda line: line.startswith(f"[{step}/{len(STEPS)}]"),
                0.05 if step < len(STEPS) - 2 else 0,  # into the step; the last ones are quick
                f"create ended before step {step}")


def test_a_create_killed_at_each_step_is_finished_off_by_the_next_command(isolated, ctx, repo):
    journal = app_paths().state_dir / "creating"
    half_made, interrupted = [], []
    # What a create makes there (other test sessions on the machine make their own symposium-* dirs).
    temporary = set(Path(tempfile.gettempdir()).glob("symposium-bundle-*"))
    for step in range(1, len(STEPS) + 1):
        taskspace = f"killed-{step}"
        create_killed_at(isolated, repo, taskspace, step)
        if not (journal / f"{taskspace}.json").exists():
            # The create got to its end before the kill landed (possible in the last, quick steps):
            # then it is a whole taskspace, registered, and nothing is taken away from it.
            assert step >= len(STEPS) - 2, f"no journal after a kill at step {step}"
            assert taskspace in ctx.registry.read()
            listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]
            assert next(t for t in listed if t["id"] == taskspace)["status"] == "running"
            assert run_cli("--url", isolated.uri, "rm", taskspace, "--force", "--purge-state").returncode == 0
            continue
        interrupted.append(step)
        if leftovers(isolated, taskspace):
            half_made.append(step)
        result = run_cli("--url", isolated.uri, "ls", "--json")
        assert result.returncode == 0, result.stderr
        assert f"taskspace {taskspace}: its create (process" in result.stderr
        assert "was interrupted" in result.stderr
        listed = [t["id"] for t in json.loads(result.stdout)["taskspaces"]]
        assert taskspace not in listed  # never shown (or registered) as a taskspace
        assert leftovers(isolated, taskspace) == {}, f"killed at step {step}"
        assert not (journal / f"{taskspace}.json").exists(), result.stderr
        assert taskspace not in ctx.registry.read()
        assert not ctx.taskspace_dir(taskspace).exists()
    # The kills really interrupted creates and left half-made taskspaces behind (else this test
    # proves nothing).
    assert len(interrupted) >= len(STEPS) - 1, interrupted
    assert len(half_made) >= len(STEPS) - 3, half_made
    # Nor is anything left in the temporary directory (a bundle dir was, once per killed create).
    assert set(Path(tempfile.gettempdir()).glob("symposium-bundle-*")) - temporary == set()
    print(f"FIGURE kill -9 at each of {len(STEPS)} create steps: {len(interrupted)} interrupted "
          f"(journal left), {len(half_made)} with engine objects left; the next command removed all of them")


def test_a_finished_create_is_never_taken_for_an_interrupted_one(isolated, ctx, lifecycle, repo):
    """A journal left after the registry entry was written (killed in the last instant): the
    taskspace is complete and stays."""
    from symposium_tui.core.services.journal import Journal
    from symposium_tui.core.services.recovery import Recovery
    from tests.engine.test_lifecycle import create, discard

    create(ctx, "done-1", repo)
    try:
        journal = Journal(ctx)
        path = journal.path("done-1")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"taskspace": "done-1", "pid": 1,
                                    "create_id": ctx.registry.read()["done-1"]["create_id"]}))
        recovered = Recovery(ctx).run()
        assert [r.removed for r in recovered] == [()]
        assert not path.exists()
        assert "taskspace-done-1" in inventory(isolated)["pods"]
        # A second create of the same id, killed before it found the id taken: it made nothing,
        # and the existing taskspace's files and pinned keys stay.
        path.write_text(json.dumps({"taskspace": "done-1", "pid": 1, "create_id": "0123456789abcdef"}))
        facts = ctx.taskspace_dir("done-1") / "taskspace.yaml"
        assert facts.exists()
        recovered = Recovery(ctx).run()
        assert [r.removed for r in recovered] == [()]
        assert not path.exists() and facts.exists()
        assert "taskspace-done-1" in inventory(isolated)["pods"]
    finally:
        discard(lifecycle, "done-1")


def test_a_level_change_killed_half_way_is_finished_by_the_next_command(isolated, ctx, lifecycle, repo):
    """#22 item 4: `security ID LEVEL` removed the pod before making the new one, with no journal:
    killed there, the taskspace was left without a pod, and gc then took its volumes for gone."""
    from symposium_tui.core.services.cleanup import Cleanup
    from tests.engine.test_lifecycle import create, discard, ssh

    taskspace = "lvl-killed"
    create(ctx, taskspace, repo)
    try:
        assert ssh(ctx, f"{taskspace}-dev", "echo kept > /workspace/kept.txt").returncode == 0
        # The old pod is gone once the new level's network is being set up: kill it there.
        pid = killed_when(isolated, ["security", taskspace, "isolated"], lambda line: "setting up the network" in line,
                          0, "the change ended before it made the new pod")
        journal = app_paths().state_dir / "creating" / f"{taskspace}.json"
        assert json.loads(journal.read_text())["making"] == "isolated"
        assert f"taskspace-{taskspace}" not in inventory(isolated)["pods"]  # between its two pods
        # Meanwhile gc leaves it be (asked here without the recovery a command runs first).
        plan = Cleanup(ctx).plan_gc(check_work=False)
        assert not [i.volume.name for i in plan.items if i.taskspace == taskspace]
        assert any(i.taskspace == taskspace and "was interrupted" in i.why for i in plan.kept)

        result = run_cli("--url", isolated.uri, "ls", "--json")
        assert result.returncode == 0, result.stderr
        assert f"taskspace {taskspace}: its security change open -> isolated (process {pid}) was " \
            "interrupted; its pod was made again at the isolated level" in result.stderr, result.stderr
        row = next(t for t in json.loads(result.stdout)["taskspaces"] if t["id"] == taskspace)
        assert (row["status"], row["security"]) == ("running", "isolated")
        assert not journal.exists() and ctx.registry.read()[taskspace]["security"] == "isolated"
        rules = subprocess.run(["iptables-save", "-t", "mangle"], capture_output=True, text=True).stdout
        assert f"taskspace={taskspace}" in rules
        assert ssh(ctx, f"{taskspace}-dev", "cat /workspace/kept.txt").stdout == "kept\n"  # the same volumes
    finally:
        discard(lifecycle, taskspace)


async def test_the_engine_stopped_and_restarted_under_the_dashboard_and_monitor(isolated, ctx, lifecycle, repo):
    """Both say the engine is unreachable, keep running, and recover within two ticks of its return."""
    import threading

    from symposium_tui.ui.app import SymposiumApp
    from symposium_tui.ui.screens.help import HelpScreen
    from tests.engine.test_lifecycle import create, discard

    create(ctx, "fault-eng", repo)
    monitor = subprocess.Popen([sys.executable, "-m", "symposium_tui", "--url", isolated.uri, "monitor",
                                "--json", "--interval", "0.5", "--no-repair"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ticks: list[tuple[float, dict]] = []

    def read() -> None:
        assert monitor.stdout is not None
        for line in monitor.stdout:
            item = json.loads(line)
            if item["type"] in ("engine", "stats"):
                ticks.append((time.monotonic(), item))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    app = SymposiumApp(isolated.uri, interval=0.5)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            async def until(predicate, timeout, what):
                deadline = time.monotonic() + timeout
                while not predicate():
                    assert time.monotonic() < deadline, f"timed out waiting for {what}"
                    await pilot.pause(0.05)
            await until(lambda: app.snapshot is not None and app.snapshot.taskspaces, 30, "the first snapshot")
            await until(lambda: any(t[1]["type"] == "stats" for t in ticks), 30, "monitor's first tick")
            isolated.service.stop()
            await until(lambda: not app.hosts["local"].ok, 10, "the dashboard to say so")
            assert "engine unreachable" in app.engine_text
            await until(lambda: ticks[-1][1]["type"] == "engine", 10, "monitor to say so")
            # Both keep running: the dashboard answers keys, the monitor keeps printing.
            await pilot.press("question_mark")
            await until(lambda: isinstance(app.screen, HelpScreen), 3, "the keys dialog")
            await pilot.press("escape")
            printed = len(ticks)
            await pilot.pause(1.5)
            assert len(ticks) > printed and monitor.poll() is None
            isolated.service.start()
            back = time.monotonic()
            seen: list[object] = []

            def recovered() -> bool:
                snapshot = app.hosts["local"].snapshot
                if snapshot is not None and (not seen or seen[-1] is not snapshot) and \
                        app.hosts["local"].answered_at > back:
                    seen.append(snapshot)
                return bool(seen) and not seen[-1].engine_error
            await until(recovered, 15, "the dashboard to recover")
            assert len(seen) <= 2, f"the dashboard needed {len(seen)} ticks"
            assert app.hosts["local"].ok and "engine unreachable" not in app.engine_text
            await until(lambda: any(t > back and item["type"] == "stats" for t, item in ticks), 15,
                        "monitor to recover")
            after = [item for t, item in ticks if t > back]
            first_good = next(i for i, item in enumerate(after) if item["type"] == "stats")
            assert first_good <= 1, f"monitor needed {first_good + 1} ticks"  # 0 or 1 error tick first
            print(f"FIGURE engine restarted: the dashboard answered again on tick {len(seen)} after the "
                  f"service returned, the monitor on tick {first_good + 1} (interval 0.5 s)")
            await pilot.press("q")
    finally:
        if not isolated.service.running:
            isolated.service.start()
        monitor.send_signal(signal.SIGINT)
        monitor.wait(20)
        discard(lifecycle, "fault-eng")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB file system of its own for the config and state dirs, to fill up or make read-only."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory) -> None:
    with open(directory / "filler", "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


def test_a_full_or_read_only_disk_fails_clearly_and_truncates_nothing(isolated, small_disk, repo):
    from symposium_tui.core.paths import APP_NAME

    env = {"XDG_CONFIG_HOME": str(small_disk / "config"), "XDG_STATE_HOME": str(small_disk / "state")}
    registry = small_disk / "state" / APP_NAME / "taskspace-registry.json"
    ssh_config = small_disk / "config" / APP_NAME / "ssh_config"
    made = run_cli("--url", isolated.uri, "create", "disk-1", "--repo", str(repo), env=env)
    try:
        assert made.returncode == 0, made.stderr
        before = {path: path.read_text() for path in (registry, ssh_config)}
        assert "disk-1" in json.loads(before[registry]) and "Host disk-1-dev" in before[ssh_config]

        fill(small_disk)
        full = run_cli("--url", isolated.uri, "create", "disk-2", "--repo", str(repo), env=env)
        assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
        assert "No space left on device" in full.stderr
        assert not [n for names in inventory(isolated).values() for n in names if "disk-2" in n]
        assert {path: path.read_text() for path in (registry, ssh_config)} == before  # whole, unchanged

        (small_disk / "filler").unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        try:
            stopped = run_cli("--url", isolated.uri, "stop", "disk-1", env=env)
            assert stopped.returncode == 1 and "Traceback" not in stopped.stderr, stopped.stderr
            assert "Read-only file system" in stopped.stderr
            assert {path: path.read_text() for path in (registry, ssh_config)} == before
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    finally:
        run_cli("--url", isolated.uri, "rm", "disk-1", "--force", "--purge-state", env=env)
        run_cli("--url", isolated.uri, "rm", "disk-2", "--force", "--purge-state", env=env)


def test_a_corrupt_registry_is_moved_aside_and_rebuilt_from_the_engine(isolated, ctx, lifecycle, repo):
    from tests.engine.test_lifecycle import create, discard

    create(ctx, "corrupt-1", repo)
    try:
        path = ctx.paths.registry_file
        path.write_bytes(b'{"corrupt-1": {"status": "runn\x00\xff')
        result = run_cli("--url", isolated.uri, "ls", "--json")
        assert result.returncode == 0, result.stderr
        assert "was corrupt: moved aside to taskspace-registry.json.corrupt-" in result.stderr
        assert "corrupt-1" in [t["id"] for t in json.loads(result.stdout)["taskspaces"]]
        assert json.loads(path.read_text())["corrupt-1"]["dev_port"]  # rebuilt from the engine
        aside = list(path.parent.glob("taskspace-registry.json.corrupt-*"))
        assert aside and aside[-1].read_bytes().startswith(b'{"corrupt-1"')
        for leftover in aside:
            leftover.unlink()
    finally:
        discard(lifecycle, "corrupt-1")


def test_a_corrupt_policy_file_is_moved_aside_and_the_default_tiers_used(isolated, ctx, lifecycle, repo):
    from tests.engine.test_lifecycle import discard

    path = ctx.paths.policy_file
    saved = path.read_bytes() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"taskspace_limits:\n  \x00\x00\x00\xff garbage")
    try:
        result = run_cli("--url", isolated.uri, "create", "corrupt-2", "--repo", str(repo), "--tier", "minimal",
                         "--json")
        assert result.returncode == 0, result.stderr
        assert "was corrupt (not text): moved aside to resource-policies.yaml.corrupt-" in result.stderr
        assert json.loads(result.stdout)["tier"] == "minimal"  # the default tiers are back
        assert "taskspace_limits:" in path.read_text() and "minimal" in path.read_text()
        aside = list(path.parent.glob("resource-policies.yaml.corrupt-*"))
        assert aside and b"garbage" in aside[-1].read_bytes()
        for leftover in aside:
            leftover.unlink()
    finally:
        discard(lifecycle, "corrupt-2")
        if saved is not None:
            path.write_bytes(saved)
