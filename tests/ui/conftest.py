"""The taskspace fixtures of the engine tests, for the dashboard tests on the real engine; and a
config dir of their own for the tests without an engine, so a ui.json of the person running them
(a theme chosen in the palette) never changes a picture."""

import pytest

from tests.engine.conftest import ctx, lifecycle  # noqa: F401 - fixtures (repo and remote_host: tests/conftest.py)


@pytest.fixture(autouse=True)
def private_config_dir(request, tmp_path, monkeypatch):
    if request.node.get_closest_marker("engine") is None:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
