"""Where the product keeps its files: platformdirs locations, so XDG_* variables are honoured."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

APP_NAME = "symposium-tui"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path
    log_dir: Path
    runtime_dir: Path
    host: str = "local"  # an engine host's state lives apart: see for_host

    def for_host(self, host: str) -> AppPaths:
        """This machine's engine keeps the top-level state; another host's registry, locks and
        files are under state/hosts/NAME, its SSH entries in ssh_config.d/NAME.conf."""
        if host == "local":
            return replace(self, host=host)
        return replace(self, host=host, state_dir=self.state_dir / "hosts" / host)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.yaml"

    @property
    def ssh_key(self) -> Path:
        return self.data_dir / "ssh" / "id_ed25519"

    @property
    def policy_file(self) -> Path:
        return self.config_dir / "resource-policies.yaml"

    @property
    def registry_file(self) -> Path:
        return self.state_dir / "taskspace-registry.json"

    @property
    def ssh_config(self) -> Path:
        """The SSH config file of this host's taskspaces."""
        if self.host == "local":
            return self.main_ssh_config
        return self.ssh_config_dir / f"{self.host}.conf"

    @property
    def main_ssh_config(self) -> Path:
        """The file people Include from ~/.ssh/config: this machine's entries, and it includes
        every other host's file."""
        return self.config_dir / "ssh_config"

    @property
    def ssh_config_dir(self) -> Path:
        return self.config_dir / "ssh_config.d"

    @property
    def known_hosts(self) -> Path:
        return self.data_dir / "ssh" / "known_hosts"

    @property
    def rootfs_cache(self) -> Path:
        return self.cache_dir / "rootfs"

    def writable_dirs(self) -> dict[str, Path]:
        return {
            "config": self.config_dir,
            "data": self.data_dir,
            "state": self.state_dir,
            "cache": self.cache_dir,
            "log": self.log_dir,
        }


def app_paths() -> AppPaths:
    """Read the locations now, so a changed environment (tests, `env XDG_...=`) is honoured."""
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    runtime_dir = Path(runtime) / APP_NAME if runtime else Path(f"/tmp/{APP_NAME}-{os.getuid()}")
    return AppPaths(
        config_dir=Path(dirs.user_config_dir),
        data_dir=Path(dirs.user_data_dir),
        state_dir=Path(dirs.user_state_dir),
        cache_dir=Path(dirs.user_cache_dir),
        log_dir=Path(dirs.user_log_dir),
        runtime_dir=runtime_dir,
    )
