"""Run the benchmarks on an isolated podman engine and write docs/benchmarks.md.

    .venv/bin/python -m benchmarks                  # everything, 5 runs each (about 10 minutes)
    .venv/bin/python -m benchmarks --runs 3 --only refresh ls

Every figure is a median of several runs and, where there is a baseline, a ratio against it
measured in the same run on the same engine: these machines are shared and noisy, so absolute
times mean little from one day to the next.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import REPO, Bench, Result, machine

GROUPS = ("create", "refresh", "ls", "dashboard", "scale", "cleanup", "toolchains", "bigrepo", "real")
HEADER = ["group", "what", "value", "baseline", "baseline value", "ratio", "target"]


def markdown(results: list[Result], runs: int, took: float, notes: str) -> str:
    lines = ["# Benchmarks", "",
             f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, on an isolated "
             f"podman engine (private store and socket), median of {runs} runs unless said otherwise; "
             f"the whole run took {took / 60:.1f} minutes. Run it yourself: `.venv/bin/python -m "
             "benchmarks` (after the README's set-up).", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.row()) + " |" for r in results]
    return "\n".join(lines) + "\n\n" + notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median; default 5)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="idle CPU window (default 60)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md",
                        help="where to write the results (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    groups = args.only or GROUPS

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    bench = Bench(args.runs, log)
    results: list[Result] = []
    try:
        from benchmarks import (bench_bigrepo, bench_cleanup, bench_create, bench_dashboard, bench_real,
                                bench_refresh, bench_scale, bench_toolchains)

        steps = {"create": lambda: bench_create.run(bench),
                 "refresh": lambda: bench_refresh.run_refresh(bench),
                 "ls": lambda: bench_refresh.run_ls(bench),
                 "dashboard": lambda: bench_dashboard.run(bench, idle_seconds=args.idle_seconds),
                 "scale": lambda: bench_scale.run(bench, idle_seconds=args.idle_seconds),
                 "cleanup": lambda: bench_cleanup.run(bench),
                 "toolchains": lambda: bench_toolchains.run(bench),
                 "bigrepo": lambda: bench_bigrepo.run(bench),
                 "real": lambda: bench_real.run(bench, idle_seconds=args.idle_seconds)}
        for group in GROUPS:
            if group not in groups:
                continue
            if group in ("create", "cleanup", "toolchains", "bigrepo", "real"):
                bench.remove_fakes()  # only real taskspaces in these
            log(f"-- {group}")
            for result in steps[group]():
                results.append(result)
                log("   " + " | ".join(result.row()))
    finally:
        bench.close()
    took = time.perf_counter() - started
    notes_file = REPO / "benchmarks" / "NOTES.md"
    notes = notes_file.read_text() if notes_file.exists() else ""
    text = markdown(results, args.runs, took, notes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
