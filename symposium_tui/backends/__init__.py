"""Engine backends: one package per kind of engine, each giving core a TaskspaceBackend
(core/backend.py) through its connection. Which one drives an engine is decided here, and only
here, by the engine URL's scheme; without a URL the default backend's own discovery finds one.
A second backend is one new package and a line in SCHEMES."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

SCHEMES = {"unix": "podman", "ssh": "podman", "tcp": "podman"}
DEFAULT = "podman"  # no URL: CONTAINER_HOST, podman's connections, this machine's socket, embedded


def backend_package(url: str | None = None) -> ModuleType:
    """The package that drives the engine at URL (None: the default backend). A URL no backend
    takes goes to the default one, whose validate_url says precisely what is wrong with it."""
    scheme = url.partition("://")[0] if url and "://" in url else ""
    return importlib.import_module(f"symposium_tui.backends.{SCHEMES.get(scheme, DEFAULT)}")


def connect(url: str | None = None, **options: Any) -> Any:
    """A connection (its .backend, .host, .where, .jump(), .close()) to the engine at URL or of a
    named host; options are those of the backend's connect()."""
    return backend_package(url).connect(url, **options)


def validate_url(url: str, what: str = "--url") -> str:
    return backend_package(url).validate_url(url, what)


def named_hosts(**options: Any) -> list:
    """The hosts a person has named (the default backend's connections, then config.yaml's)."""
    return backend_package().named_hosts(**options)


def tool_facts() -> tuple[str | None, str | None]:
    """(the engine's command-line tool, its version) on this machine, for doctor."""
    return backend_package().tool_facts()


def image_builder(connection: Any, paths: Any, settings: Any, progress: Any) -> Any:
    """What builds the product's images on a connection's engine."""
    return backend_package(connection.target.uri).image_builder(connection, paths, settings, progress)
