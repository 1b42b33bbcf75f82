"""An isolated podman engine: private store, run dir, network configs and socket.

Tests and benchmarks run against one of these, never the person's own pods. Everything it made
(containers, pods, volumes, networks, mounts, processes, files) is removed by `destroy()`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.engine import hostfix
from symposium_tui.engine.adapter import Engine
from symposium_tui.engine.connection import podman_binary
from symposium_tui.engine.service import PodmanService


class IsolatedEngine:
    def __init__(self, base_dir: Path | None = None, *, subnet: str = "10.89.240.0/24") -> None:
        binary = podman_binary()
        if binary is None:
            raise EngineUnavailable("podman is not installed", hint="apt-get install podman runc")
        self.dir = base_dir or Path(tempfile.mkdtemp(prefix="symposium-engine-", dir="/tmp"))
        self.root = self.dir / "root"
        self.runroot = self.dir / "run"
        self.conf = self.dir / "containers.conf"
        fix = hostfix.fixes_for(hostfix.HostQuirks.detect())
        if fix.problems:
            raise EngineUnavailable("; ".join(fix.problems))
        overrides = hostfix.deep_merge(fix.overrides, {
            "network": {"network_config_dir": str(self.dir / "networks"), "default_subnet": subnet},
            "engine": {"tmp_dir": str(self.dir / "tmp"), "volume_path": str(self.root / "volumes")},
        })
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(hostfix.merged_conf(hostfix.system_conf_files(), overrides))
        self.service = PodmanService(binary, socket_dir=self.dir, containers_conf=self.conf,
                                     root=self.root, runroot=self.runroot)
        self.binary = binary

    @property
    def uri(self) -> str:
        return self.service.uri

    def start(self) -> IsolatedEngine:
        self.service.start()
        return self

    def engine(self, timeout: float = 60.0) -> Engine:
        return Engine(self.uri, timeout=timeout, source="isolated engine")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The podman CLI on the same private store (for assertions and baselines)."""
        cmd = [self.binary, "--root", str(self.root), "--runroot", str(self.runroot), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=check,
                              env=self.service.environment())

    def remove_everything(self) -> None:
        """Remove every pod, container, volume and network on this engine (not images)."""
        for args in (["pod", "rm", "--all", "--force", "--time", "0"],
                     ["rm", "--all", "--force", "--time", "0"],
                     ["volume", "rm", "--all", "--force"],
                     ["network", "prune", "--force"]):
            self.cli(*args, check=False)

    def destroy(self) -> None:
        if self.service.running:
            self.remove_everything()
        self.service.stop()
        self._unmount()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _unmount(self) -> None:
        prefix = str(self.dir)
        with open("/proc/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
