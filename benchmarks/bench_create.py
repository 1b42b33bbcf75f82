"""1. Create: the product vs the seed's create path as a script vs the same objects made with the
podman CLI and no sleeps; and 10 taskspaces created concurrently vs one after another."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.common import REPO, Bench, Result, median_time

SCRIPT = REPO / "benchmarks" / "seed_create.sh"


def run(bench: Bench) -> list[Result]:
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.lifecycle import Lifecycle

    lifecycle = Lifecycle(bench.ctx)
    repo = parse_repo(str(bench.repo))
    counter = iter(range(10_000))

    def product() -> None:
        Creator(bench.ctx).create(CreateRequest(f"bc-{next(counter)}", repo, project_type="python"))

    def remove_all() -> None:
        for t in lifecycle.list().taskspaces:
            lifecycle.remove(t.id, force=True, purge_state=True)

    product()  # warm: the repository's base volume exists from here on, as for the scripts below
    remove_all()
    results = []
    product_time = median_time(product, bench.runs, after=remove_all)

    env = bench.iso.service.environment() | {
        "PODMAN": " ".join(bench.iso.cli_prefix()), "AGENT_IMAGE": bench.images["agent"],
        "DEV_IMAGE": bench.images["dev"]}
    ids = iter(range(10_000))

    def script(sleep: str) -> None:
        taskspace = f"seed-{next(ids)}"
        result = subprocess.run(["bash", str(SCRIPT), taskspace, str(bench.repo)], env=env | {"SEED_SLEEP": sleep},
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"the seed script failed: {result.stderr.strip()}")

    def remove_seed() -> None:
        bench.cli("pod", "rm", "--all", "--force", "--time", "0")
        names = bench.cli("volume", "ls", "--format", "{{.Name}}").stdout.split()
        doomed = [n for n in names if n.startswith("taskspace-seed-")]
        if doomed:
            bench.cli("volume", "rm", "--force", *doomed)

    script("0")  # warm its base volume too
    remove_seed()
    seed_time = median_time(lambda: script("2"), bench.runs, after=remove_seed)
    hand_time = median_time(lambda: script("0"), bench.runs, after=remove_seed)
    results.append(Result("create", "product create (SSH answering in both)", product_time,
                          "the seed's script (sleep 2)", seed_time, "<= 0.33x (3x faster)", limit=1 / 3))
    results.append(Result("create", "product create (SSH answering in both)", product_time,
                          "same objects, podman CLI, no sleeps", hand_time, "<= 1.0x", limit=1.0))

    def cli_create() -> None:  # as a person runs it: a new process, its start and imports included
        subprocess.run([sys.executable, "-m", "symposium_tui", "--url", bench.iso.uri, "create",
                        f"bx-{next(counter)}", "--repo", str(bench.repo), "--project-type", "python"],
                       capture_output=True, check=True)
    results.append(Result("create", "`create` as a new CLI process (SSH answering in both)",
                          median_time(cli_create, bench.runs, after=remove_all), "the seed's script (sleep 2)",
                          seed_time, "<= 0.33x (3x faster)", limit=1 / 3))

    # N=10: concurrently vs one after another.
    n = 10
    names = [f"bn-{i}" for i in range(n)]

    def one(name: str) -> None:
        Creator(bench.ctx).create(CreateRequest(name, repo, project_type="python", tier="minimal"))

    def sequential() -> None:
        for name in names:
            one(name)

    def concurrent() -> None:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(one, names))

    runs = max(1, bench.runs // 2)
    started = time.perf_counter()
    seq = median_time(sequential, runs, after=remove_all)
    conc = median_time(concurrent, runs, after=remove_all)
    bench.log(f"create x{n}: {time.perf_counter() - started:.0f} s")
    results.append(Result("create", f"{n} creates concurrently", conc, f"{n} one after another", seq,
                          "< 1.0x", limit=1.0))
    return results
