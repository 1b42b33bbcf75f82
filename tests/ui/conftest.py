"""The taskspace fixtures of the engine tests, for the dashboard tests on the real engine."""

from tests.engine.conftest import ctx, lifecycle, remote_host, repo  # noqa: F401 - fixtures
