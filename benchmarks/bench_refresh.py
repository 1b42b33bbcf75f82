"""2. Refresh: one poller tick for 1, 10 and 50 taskspaces vs the raw REST floor (the pods list and
the all-containers stats call, timed alone). 3. `ls --json` vs podman's own CLI."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import Bench, Result, median_time


def floor_calls(bench: Bench) -> None:
    from symposium_tui.core import labels as L
    from symposium_tui.backends.podman.normalize import filter_params

    api = bench.engine.client.api
    api.get("/pods/json", params=filter_params(L.ALL_OURS)).raise_for_status()
    api.get("/containers/stats", params={"stream": False}).raise_for_status()


def run_refresh(bench: Bench, sizes: tuple[int, ...] = (1, 10, 50)) -> list[Result]:
    results = []
    for n in sizes:
        bench.add_fakes(n)
        results.append(tick_result(bench, "refresh", f"{n} taskspaces"))
    return results


def tick_result(bench: Bench, group: str, what: str) -> Result:
    """One poller tick (median; repair and disk measuring off) against the REST floor, with the
    engine calls a tick made."""
    from symposium_tui.core.services.poller import Poller, PollerSettings

    poller = Poller(bench.ctx, PollerSettings(repair=False, storage_every=0))
    poller.tick()  # the first tick has no CPU deltas yet
    runs = max(bench.runs, 5)
    tick = median_time(poller.tick, runs)
    floor = median_time(lambda: floor_calls(bench), runs)
    calls = poller.tick().calls
    return Result(group, f"poller tick, {what} ({calls} engine calls)", tick, "REST floor: pods list + stats",
                  floor, "<= 1.25x", limit=1.25)


def run_ls(bench: Bench, sizes: tuple[int, ...] = (3, 50)) -> list[Result]:
    """`ls --json` as a person runs it (a new process: Python's start, the imports, the engine
    calls) against podman's own two CLI calls, with 3 and with 50 taskspaces (issue #23)."""
    ours = [sys.executable, "-m", "symposium_tui", "--url", bench.iso.uri, "ls", "--json"]

    def product() -> None:
        subprocess.run(ours, capture_output=True, check=True)

    def podman() -> None:
        subprocess.run(bench.remote("pod", "ps", "--format", "json"), capture_output=True, check=True)
        subprocess.run(bench.remote("stats", "--no-stream", "--format", "json"), capture_output=True, check=True)

    results = []
    for n in sizes:
        bench.add_fakes(n)
        product()
        podman()
        runs = max(bench.runs, 5)
        results.append(Result("ls", f"`ls --json`, {n} taskspaces", median_time(product, runs),
                              "podman pod ps + podman stats (json)", median_time(podman, runs), "<= 1.5x",
                              limit=1.5))
    return results
