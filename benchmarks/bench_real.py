"""9. Real taskspaces at scale (issue #23): up to 200 made by the product itself (pod, agent and
dev containers with their SSH servers, project disk, agent state, build cache), grown in two
steps, 50 then 200; at each, a poller tick against the REST floor and the dashboard's first paint
and idle CPU; at 200, a key press repainted while ticks run. Creating stops at the first failure,
and the rows say how many there were and what ran out."""

from __future__ import annotations

import asyncio
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.bench_dashboard import _first_paint, _idle_cpu
from benchmarks.bench_refresh import tick_result
from benchmarks.bench_scale import _key_latency
from benchmarks.common import Bench, Result

STEPS = (50, 200)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(bench: Bench, idle_seconds: float = 60.0):
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.lifecycle import Lifecycle

    repo = parse_repo(str(bench.repo))
    lifecycle = Lifecycle(bench.ctx)
    made: list[str] = []
    ran_out = ""

    def one(name: str) -> str:
        Creator(bench.ctx).create(CreateRequest(name, repo, project_type="none", tier="minimal"))
        return name

    def grow(total: int) -> None:
        nonlocal ran_out
        names = [f"real-{i:04d}" for i in range(len(made), total)]
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(one, name) for name in names]
            for future in futures:
                try:
                    made.append(future.result())
                except Exception as exc:  # noqa: BLE001 - what ran out is the result
                    ran_out = ran_out or f"{type(exc).__name__}: {exc}"
        bench.log(f"real taskspaces: {len(made)}" + (f" (stopped: {ran_out})" if ran_out else ""))

    try:
        for step in STEPS:
            grow(step)
            n = len(made)
            label = f"{n} real taskspaces" + (f" (of {step} asked; {ran_out})" if n < step else "")
            yield tick_result(bench, "real", label)
            paints = [asyncio.run(_first_paint(bench.iso.uri, n)) for _ in range(3)]
            yield Result("real", f"dashboard start to first painted list, {label}", statistics.median(paints),
                         "", 0.0, "<= 1.0 s", limit=1.0)
            limit = 1.0 if step <= 50 else 3.0
            cpu = asyncio.run(_idle_cpu(bench.iso.uri, n, idle_seconds))
            yield Result("real", f"dashboard idle CPU, {label}, 2 s tick, {idle_seconds:.0f} s", cpu, "", 0.0,
                         f"<= {limit:.0f} % of a core", unit="%", limit=limit)
            if step == STEPS[-1]:
                latencies = sorted(asyncio.run(_key_latency(bench.iso.uri, n)))
                p95 = latencies[int(len(latencies) * 0.95) - 1]
                yield Result("real", f"key press (cursor move) repainted, 95th percentile of {len(latencies)}, "
                             f"{label}, 0.5 s tick", p95, "", 0.0, "<= 100 ms", limit=0.1)
                yield Result("real", f"resident memory of the benchmark process after these dashboards, {label}",
                             _rss_mb(), "", 0.0, "<= 150 MB", unit="MB", limit=150.0)
            if ran_out:
                break
    finally:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda name: lifecycle.remove(name, force=True, purge_state=True), made))
