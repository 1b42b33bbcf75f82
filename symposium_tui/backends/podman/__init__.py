"""The podman backend: the only package that talks to podman. Its entry points import podman-py
only when called, so `--help` and the pure commands stay fast."""

from __future__ import annotations

from typing import Any


def connect(url: str | None = None, **options: Any) -> Any:
    from symposium_tui.backends.podman.session import connect as podman_connect

    return podman_connect(url, **options)


def validate_url(url: str, what: str = "--url") -> str:
    from symposium_tui.backends.podman.connection import validate_url as podman_validate

    return podman_validate(url, what)


def named_hosts(**options: Any) -> list:
    from symposium_tui.backends.podman.connection import named_hosts as podman_hosts

    return podman_hosts(**options)


def tool_facts() -> tuple[str | None, str | None]:
    from symposium_tui.backends.podman.connection import podman_binary, podman_cli_version

    binary = podman_binary()
    return binary, podman_cli_version(binary) if binary else None


def image_builder(connection: Any, paths: Any, settings: Any, progress: Any) -> Any:
    from symposium_tui.backends.podman.images import ImageBuilder

    return ImageBuilder(connection.engine, paths, settings, progress)
