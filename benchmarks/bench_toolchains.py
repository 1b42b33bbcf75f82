"""6. The build cache: a Rust crate's cold `cargo build` in a new taskspace, against the same build
after `restart ID` (the cache on the project disk keeps target/: everything is fresh)."""

from __future__ import annotations

import subprocess
import time

from benchmarks.common import Bench, Result

CRATE = {
    "Cargo.toml": '[package]\nname = "bench"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/main.rs": "".join(f"fn f{i}(x: u64) -> u64 {{ x.wrapping_mul({i + 3}).rotate_left({i % 7}) }}\n"
                           for i in range(400))
                   + "fn main() {\n    let mut x = 1u64;\n"
                   + "".join(f"    x = f{i}(x);\n" for i in range(400)) + '    println!("{x}");\n}\n',
}


def _repo(bench: Bench):
    path = bench.home / "src" / "bench-crate"
    (path / "src").mkdir(parents=True, exist_ok=True)
    for name, text in CRATE.items():
        (path / name).write_text(text)
    identity = ["-c", "user.email=b@example.com", "-c", "user.name=Bench"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], [*identity, "commit", "-q", "-m", "crate"]):
        subprocess.run(["git", *cmd], cwd=path, check=True, capture_output=True)
    return path


def _build(bench: Bench, taskspace: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(["ssh", "-F", str(bench.ctx.paths.ssh_config), "-o", "BatchMode=yes", f"{taskspace}-dev",
                           "cd /workspace && cargo build --offline --release -q"],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"cargo build failed: {done.stderr[-500:]}")
    return time.perf_counter() - started


def run(bench: Bench) -> list[Result]:
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.core.services.lifecycle import Lifecycle

    repo = parse_repo(str(_repo(bench)))
    lifecycle = Lifecycle(bench.ctx)
    colds, rebuilds = [], []
    for run_index in range(max(bench.runs // 2, 1)):
        name = f"bench-rust-{run_index}"
        Creator(bench.ctx).create(CreateRequest(name, repo))
        try:
            colds.append(_build(bench, name))
            lifecycle.restart(name)
            rebuilds.append(_build(bench, name))
        finally:
            lifecycle.remove(name, force=True, purge_state=True)
    cold, rebuild = sorted(colds)[len(colds) // 2], sorted(rebuilds)[len(rebuilds) // 2]
    return [Result("build cache", "cargo build --release after restart ID (a 400-function crate)", rebuild,
                   "its cold build in a new taskspace", cold, "<= 0.25x", limit=0.25)]
