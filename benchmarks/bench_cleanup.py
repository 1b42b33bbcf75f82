"""5. Cleanup: applying the plan for 20 stopped, inactive taskspaces vs removing the same things
one by one with the podman CLI."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from benchmarks.common import Bench, Result


def _make(bench: Bench, n: int) -> list[str]:
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.lifecycle import Lifecycle

    repo = parse_repo(str(bench.repo))
    names = [f"gc-{i:02d}" for i in range(n)]
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda name: Creator(bench.ctx).create(CreateRequest(name, repo, tier="minimal")), names))
    lifecycle = Lifecycle(bench.ctx)
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lifecycle.stop, names))
    old = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()
    for name in names:
        bench.ctx.registry.put(name, {"last_activity": old})
    return names


def run(bench: Bench, n: int = 20) -> list[Result]:
    from symposium_tui.core.services.cleanup import Cleanup

    names = _make(bench, n)
    cleanup = Cleanup(bench.ctx)
    started = time.perf_counter()  # as `cleanup --inactive-days 7 --apply` does it (work checked once)
    plan = cleanup.plan(timedelta(days=7), check_work=False)
    outcomes = cleanup.apply(plan)
    product = time.perf_counter() - started
    removed = [o for o in outcomes if o.removed]
    if len(removed) != n:
        raise RuntimeError(f"cleanup removed {len(removed)} of {n}: {[o.result for o in outcomes]}")

    names = _make(bench, n)
    volumes = [v.name for v in bench.engine.volumes() if any(v.name.startswith(f"taskspace-{t}-") for t in names)]
    started = time.perf_counter()
    for name in names:
        bench.cli("pod", "rm", "--force", "--time", "0", f"taskspace-{name}")
        mine = [v for v in volumes if v.startswith(f"taskspace-{name}-") and not v.endswith("-agent-state")]
        # views before what they are views of, as the product does
        order = ("-workspace", "-build-cache", "-project", "-project-disk")
        mine.sort(key=lambda v: next(i for i, suffix in enumerate(order) if v.endswith(suffix)))
        bench.cli("volume", "rm", *mine)
    by_hand = time.perf_counter() - started
    for name in names:  # the agent state both kept
        bench.cli("volume", "rm", f"taskspace-{name}-agent-state")
    for name in names:
        bench.ctx.registry.remove(name)
    return [Result("cleanup", f"cleanup --apply, {n} stopped taskspaces (plan, re-checks, unsaved-work "
                   "checks, removal)",
                   product, "podman CLI, one by one", by_hand, "<= 1.0x", limit=1.0)]
