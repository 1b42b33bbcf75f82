"""Fixtures for taskspace tests on the isolated engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("repos") / "demo-project",
                     {"README.md": "hello\n", "src.txt": "original\n"})


@pytest.fixture(scope="session")
def ctx(engine, images) -> LifecycleContext:
    paths = app_paths()
    return LifecycleContext(engine, paths, load_settings(paths.config_file))


@pytest.fixture(scope="session")
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
