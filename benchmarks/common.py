"""What every benchmark shares: the isolated engine and its images, fake taskspaces for scale,
timing (median of several runs) and results as ratios against a baseline of the same run."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from symposium_tui.backends.podman.backend import PodmanBackend

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    group: str
    what: str
    value: float
    baseline: str
    baseline_value: float
    target: str = ""  # e.g. "<= 1.25x"
    unit: str = "s"
    limit: float | None = None  # the ratio (or, with no baseline, the value) the target allows
    lower_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline_value if self.baseline_value else None

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        measure = self.ratio if self.ratio is not None else self.value
        return measure <= self.limit if self.lower_is_better else measure >= self.limit

    def row(self) -> list[str]:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        met = {True: "met", False: "MISSED", None: ""}[self.met]
        return [self.group, self.what, fmt(self.value, self.unit), self.baseline or "-",
                fmt(self.baseline_value, self.unit) if self.baseline else "-", ratio,
                f"{self.target} {met}".strip()]


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "B":
        return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:.1f} MB"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:g} {unit}"


def median_time(fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None,
                after: Callable[[], object] | None = None) -> float:
    """Median wall time of fn over runs; before/after run untimed around each run."""
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        if after:
            after()
    return statistics.median(times)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    except (OSError, ValueError, IndexError):
        pass
    podman = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} x {cpu}, {memory} GiB RAM, Linux {platform.release()}, {podman}, "
            f"Python {platform.python_version()}")


def private_home() -> Path:
    """Private XDG dirs, so a benchmark never touches the person's registry, config or keys."""
    home = Path(tempfile.mkdtemp(prefix="symposium-bench-home-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    for var in ("CONTAINER_HOST", "CONTAINER_CONNECTION"):
        os.environ.pop(var, None)
    return home


def make_repo(path: Path) -> Path:
    """A git repository with one commit (for the benchmarks and the demo engine)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text(f"# {path.name}\n")
    for cmd in (["init", "-q", "-b", "main"], ["add", "."],
                ["-c", "user.email=demo@example.com", "-c", "user.name=Demo", "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *cmd], cwd=path, check=True, capture_output=True)
    return path


class Bench:
    """The isolated engine with the product's images, shared by every benchmark of one run."""

    def __init__(self, runs: int, log: Callable[[str], None]) -> None:
        from symposium_tui.core.config import load_settings
        from symposium_tui.core.paths import app_paths
        from symposium_tui.core.services.context import LifecycleContext
        from symposium_tui.backends.podman.images import ImageBuilder
        from testbed.isolated import IsolatedEngine

        self.runs = runs
        self.log = log
        self.home = private_home()
        self.iso = IsolatedEngine().start()
        self.engine = self.iso.engine()
        self.paths = app_paths()
        self.settings = load_settings(self.paths.config_file)
        log("building the images (cached after the first time)…")
        steps = ImageBuilder(self.engine, self.paths, self.settings).build_all()
        self.images = {step.role: step.image for step in steps}
        self.ctx = LifecycleContext(PodmanBackend(self.engine), self.paths, self.settings)
        self.repo = make_repo(self.home / "src" / "bench-project")
        self.fakes: list[str] = []

    def close(self) -> None:
        self.engine.close()
        self.iso.destroy()
        shutil.rmtree(self.home, ignore_errors=True)  # its private config, state and keys

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.iso.cli(*args, check=False)

    def remote(self, *args: str) -> list[str]:
        """podman's own CLI talking to the same service the product uses."""
        return ["podman", "--url", self.iso.uri, *args]

    # -- fake taskspaces: labelled pods with two idle containers, for scale ------------------------
    def add_fakes(self, total: int) -> None:
        """Grow (or shrink) to `total` fake taskspaces: what the poller and `ls` see of a taskspace (the pod,
        an agent and a dev container, our labels), without SSH servers or volumes."""
        from symposium_tui.core import labels as L
        from symposium_tui.backends.podman.specs import ContainerSpec, PodSpec

        def one(index: int) -> str:
            taskspace = f"fake-{index:04d}"
            pod = f"taskspace-{taskspace}"
            common = {L.PROJECT: "bench", L.TIER: "minimal", L.SECURITY: "open"}
            self.engine.create_pod(PodSpec(pod, taskspace, L.ours("pod", taskspace) | common, (), 512 * 2**20, 500))
            for role in ("agent", "dev"):
                name = f"{pod}-{role}"
                self.engine.create_container(ContainerSpec(
                    name, self.images["agent"], L.ours(role, taskspace) | common, pod=pod,
                    entrypoint=("/bin/sh",), command=("-c", "trap 'exit 0' TERM; sleep infinity & wait")))
                self.engine.start_container(name)
            return taskspace

        if total < len(self.fakes):  # shrink: the extra ones go
            extra, self.fakes = self.fakes[total:], self.fakes[:total]
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda t: self.engine.remove_pod(f"taskspace-{t}"), extra))
            return
        wanted = range(len(self.fakes), total)
        with ThreadPoolExecutor(4) as pool:
            self.fakes += list(pool.map(one, wanted))

    def remove_fakes(self) -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda t: self.engine.remove_pod(f"taskspace-{t}"), self.fakes))
        self.fakes = []
