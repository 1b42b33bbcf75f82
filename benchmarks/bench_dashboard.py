"""4. Dashboard: time to the first painted list with 50 taskspaces; CPU of the idle dashboard with
50 taskspaces at a 2 s tick; resident memory with 1,000 taskspaces' rows and 10 minutes of stats
history (the engine's recorded answers for 50 real fake-taskspaces, replayed 20 times over through
the real adapter, poller and app)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time

from benchmarks.common import REPO, Bench, Result
from symposium_tui.backends.podman.backend import PodmanBackend


async def _until(pilot, predicate, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the dashboard did not show the list in time")
        await pilot.pause(0.01)


def _rows(app) -> int:  # noqa: ANN001
    from textual.widgets import DataTable

    from symposium_tui.ui.screens.home import HomeScreen

    home = next((s for s in app.screen_stack if isinstance(s, HomeScreen)), None)
    return home.query_one("#taskspaces", DataTable).row_count if home else 0


async def _first_paint(uri: str, n: int) -> float:
    from symposium_tui.ui.app import SymposiumApp

    started = time.perf_counter()
    app = SymposiumApp(uri, interval=2.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: _rows(app) >= n, 30)
        elapsed = time.perf_counter() - started
        await pilot.press("q")
    return elapsed


async def _idle_cpu(uri: str, n: int, seconds: float) -> float:
    from symposium_tui.ui.app import SymposiumApp

    app = SymposiumApp(uri, interval=2.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: _rows(app) >= n, 30)
        await pilot.pause(4.0)  # past the first ticks
        cpu, wall = time.process_time(), time.perf_counter()
        await pilot.pause(seconds)
        used = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
        await pilot.press("q")
    return used


def run(bench: Bench, n: int = 50, idle_seconds: float = 60.0) -> list[Result]:
    import statistics

    bench.add_fakes(n)
    paints = [asyncio.run(_first_paint(bench.iso.uri, n)) for _ in range(max(3, bench.runs // 2))]
    results = [Result("dashboard", f"start to first painted list, {n} taskspaces", statistics.median(paints),
                      "", 0.0, "<= 1.0 s", limit=1.0)]
    cpu = asyncio.run(_idle_cpu(bench.iso.uri, n, idle_seconds))
    results.append(Result("dashboard", f"idle CPU, {n} taskspaces, 2 s tick, {idle_seconds:.0f} s", cpu, "", 0.0,
                          "<= 2 % of a core", unit="%", limit=2.0))
    child = subprocess.run([sys.executable, "-c", "from benchmarks.bench_dashboard import memory_child; "
                            f"memory_child({bench.iso.uri!r})"], capture_output=True, text=True, cwd=str(REPO))
    if child.returncode != 0:
        raise RuntimeError(f"the memory run failed: {child.stderr.strip()[-2000:]}")
    rss = float(child.stdout.strip().splitlines()[-1])
    results.append(Result("dashboard", "resident memory, 1,000 taskspaces' rows + 10 min of stats", rss, "", 0.0,
                          "<= 150 MB", unit="MB", limit=150.0))
    return results


# -- the memory run, in a process of its own ------------------------------------------------------
def _replicated(answer: object, copies: int) -> list:
    """The engine's answer for the fakes, `copies` times over with new names and ids."""
    text = json.dumps(answer)
    ids = sorted(set(__import__("re").findall(r'"([0-9a-f]{64})"', text)), key=len, reverse=True)
    out = []
    for k in range(copies):
        copy = text.replace("fake-", f"fake{k:02d}-")
        for old in ids:
            new = hashlib.sha256(f"{old}{k}".encode()).hexdigest()
            copy = copy.replace(old, new).replace(old[:12], new[:12])
        out.append(json.loads(copy))
    return out


def memory_child(uri: str, copies: int = 20, ticks: int = 300, wanted: int = 1000) -> None:
    import resource

    from symposium_tui.core import labels as L
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.services.context import LifecycleContext
    from symposium_tui.core.services.poller import Poller, PollerSettings
    from symposium_tui.backends.podman.adapter import Engine
    from symposium_tui.backends.podman.normalize import filter_params

    engine = Engine(uri)
    api = engine.client.api
    pods = api.get("/pods/json", params=filter_params(L.ALL_OURS)).json()
    containers = api.get("/containers/json", params={"all": True, **filter_params(L.ALL_OURS)}).json()
    stats = api.get("/containers/stats", params={"stream": False}).json()
    recorded = {
        "/pods/json": [p for copy in _replicated(pods, copies) for p in copy],
        "/containers/json": [c for copy in _replicated(containers, copies) for c in copy],
        "/containers/stats": {"Error": None, "Stats": [s for copy in _replicated(stats.get("Stats") or [], copies)
                                                       for s in copy]},
    }
    real = engine._get_json

    def replay(what: str, path: str, **params: object) -> object:
        engine.calls += 1
        return recorded[path] if path in recorded else real(what, path, **params)
    engine._get_json = replay  # the recorded answers go through the real adapter's parsing

    paths = app_paths()
    ctx = LifecycleContext(PodmanBackend(engine), paths, load_settings(paths.config_file))
    now = [time.time()]
    poller = Poller(ctx, PollerSettings(repair=False, storage_every=0, interval=2.0), clock=lambda: now[0])
    snapshot = None
    for _ in range(ticks):  # 10 minutes of history at a 2 s tick
        snapshot = poller.tick()
        now[0] += 2.0
    taskspaces = len(snapshot.taskspaces)

    from types import SimpleNamespace

    from symposium_tui.ui.app import SymposiumApp
    from symposium_tui.ui.messages import SnapshotTaken

    async def show() -> None:
        app = SymposiumApp(connect=False)
        async with app.run_test(size=(120, 40)) as pilot:
            app.services = SimpleNamespace(poller=poller, ctx=ctx, changes=None)
            app.post_message(SnapshotTaken(snapshot))
            await _until(pilot, lambda: _rows(app) >= taskspaces, 60)
            await pilot.pause(0.5)
            await pilot.press("q")

    asyncio.run(show())
    if taskspaces < wanted:
        raise SystemExit(f"only {taskspaces} taskspaces were replayed")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
