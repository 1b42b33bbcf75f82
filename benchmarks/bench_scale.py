"""7. Scale (issue #23): 200 taskspaces as the poller and the dashboard see them (labelled pods, each
with a running agent and dev container; no SSH servers or volumes, so the SSH probes and disk
measuring, which run on their own schedule, are not in these figures): one poller tick against
the REST floor, the dashboard's first paint, a key press repainted while ticks run, idle CPU at 50
and 200, and resident memory with 200 and ten minutes of stats."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

from benchmarks.bench_dashboard import _first_paint, _idle_cpu, _rows, _until
from benchmarks.bench_refresh import run_refresh
from benchmarks.common import REPO, Bench, Result

SCALE = 200


async def _key_latency(uri: str, n: int, presses: int = 60) -> list[float]:
    """Seconds from pressing `down` to the list's cursor having moved and the screen refreshed,
    in the real app at a 0.5 s tick (so ticks land among the presses)."""
    from textual.widgets import DataTable

    from symposium_tui.ui.app import SymposiumApp

    app = SymposiumApp(uri, interval=0.5)
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: _rows(app) >= n, 60)
        table = app.screen.query_one("#taskspaces", DataTable)
        for index in range(presses):
            key = "down" if (index // 20) % 2 == 0 else "up"
            before = table.cursor_row
            started = time.perf_counter()
            await pilot.press(key)
            while table.cursor_row == before:
                await pilot.pause(0)
            await pilot.pause(0)  # the refresh that paints it
            latencies.append(time.perf_counter() - started)
            await pilot.pause(0.05)
        await pilot.press("q")
    return latencies


def run(bench: Bench, idle_seconds: float = 60.0) -> Iterator[Result]:
    """Each result as soon as it is measured (the whole group takes some ten minutes)."""
    yield from run_refresh(bench, sizes=(SCALE,))
    paints = [asyncio.run(_first_paint(bench.iso.uri, SCALE)) for _ in range(max(3, bench.runs // 2))]
    yield Result("scale", f"dashboard start to first painted list, {SCALE} taskspaces",
                 statistics.median(paints), "", 0.0, "<= 1.0 s", limit=1.0)
    latencies = sorted(asyncio.run(_key_latency(bench.iso.uri, SCALE)))
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    yield Result("scale", f"key press (cursor move) repainted, 95th percentile of {len(latencies)}, "
                 f"{SCALE} taskspaces, 0.5 s tick", p95, "", 0.0, "<= 100 ms", limit=0.1)
    for n, limit in ((50, 1.0), (SCALE, 3.0)):
        bench.add_fakes(n)
        cpu = asyncio.run(_idle_cpu(bench.iso.uri, n, idle_seconds))
        yield Result("scale", f"dashboard idle CPU, {n} taskspaces, 2 s tick, {idle_seconds:.0f} s", cpu,
                     "", 0.0, f"<= {limit:.0f} % of a core", unit="%", limit=limit)
    bench.add_fakes(50)
    child = subprocess.run([sys.executable, "-c", "from benchmarks.bench_dashboard import memory_child; "
                            f"memory_child({bench.iso.uri!r}, copies=4, wanted={SCALE})"],
                           capture_output=True, text=True, cwd=str(REPO))
    if child.returncode != 0:
        raise RuntimeError(f"the memory run failed: {child.stderr.strip()[-2000:]}")
    rss = float(child.stdout.strip().splitlines()[-1])
    yield Result("scale", f"dashboard resident memory, {SCALE} taskspaces + 10 min of stats", rss, "", 0.0,
                 "<= 150 MB", unit="MB", limit=150.0)
