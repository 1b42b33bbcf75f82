"""Fixtures for taskspace tests on the isolated engine."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from symposium_tui.backends.podman.backend import PodmanBackend
from symposium_tui.core.config import load_settings
from symposium_tui.core.paths import app_paths
from symposium_tui.core.services.context import LifecycleContext
from symposium_tui.core.services.lifecycle import Lifecycle


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository with one commit on main."""
    path.mkdir(parents=True)
    for name, text in (files or {"README.md": "hello\n"}).items():
        (path / name).write_text(text)
    env_args = ["-c", "user.email=t@example.com", "-c", "user.name=Test"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], [*env_args, "commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *cmd], cwd=path, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def ctx(engine, images) -> LifecycleContext:
    paths = app_paths()
    return LifecycleContext(PodmanBackend(engine), paths, load_settings(paths.config_file))


@pytest.fixture(scope="module")
def lifecycle(ctx) -> Lifecycle:
    return Lifecycle(ctx)


def inventory(isolated) -> dict[str, list[str]]:
    """Everything on the engine, as podman's own CLI lists it (an oracle independent of ours)."""
    def names(*args: str) -> list[str]:
        return sorted(isolated.cli(*args).stdout.split())
    return {
        "pods": names("pod", "ps", "--format", "{{.Name}}"),
        "containers": names("ps", "-a", "--format", "{{.Names}}"),
        "volumes": names("volume", "ls", "--format", "{{.Name}}"),
        "networks": names("network", "ls", "--format", "{{.Name}}"),
    }


class RemoteHost:
    """A second isolated engine behind a real sshd on 127.0.0.1: another machine, as far as the
    product can tell (it reaches it over SSH only)."""

    name = "box2"

    def __init__(self, iso, sshd) -> None:
        self.iso = iso
        self.sshd = sshd
        self.uri = sshd.uri(str(iso.service.socket_path))

    def config_text(self) -> str:
        return (f"hosts:\n  {self.name}:\n    url: {self.uri}\n"
                f"    identity: {self.sshd.client_key}\n")

    @contextmanager
    def configured(self, config_file: Path):
        """config.yaml names this host for the length of a test module, then is put back."""
        saved = config_file.read_text() if config_file.exists() else None
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(self.config_text())
        try:
            yield self
        finally:
            if saved is None:
                config_file.unlink(missing_ok=True)
            else:
                config_file.write_text(saved)
