"""Test session set-up: private XDG dirs, and one isolated podman engine with the product's images.

The engine (private --root/--runroot, socket, network configs) is started once per session and
destroyed at the end with everything it made. The Debian root filesystem cache in the person's
cache dir is reused, so only the first run on a machine pays for mmdebstrap.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

_HOME = Path(tempfile.mkdtemp(prefix="symposium-test-home-"))
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_HOME / _var.lower())
for _var in ("CONTAINER_HOST", "CONTAINER_CONNECTION", "SYMPOSIUM_AGENT_IMAGE", "SYMPOSIUM_DEV_IMAGE",
             "SYMPOSIUM_BASE_IMAGE"):
    os.environ.pop(_var, None)

REPO = Path(__file__).resolve().parents[1]

# Property tests run while engines, sshd and dashboards share two busy cores: no per-example
# deadline (a slow example is not a wrong one), no example database in the checkout, and a
# failure prints the blob that reproduces it (@reproduce_failure).
settings.register_profile("suite", deadline=None, database=None, print_blob=True)
settings.load_profile("suite")


@pytest.fixture(scope="session")
def test_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def isolated():
    from symposium_tui.engine.isolated import IsolatedEngine

    iso = IsolatedEngine().start()
    try:
        yield iso
    finally:
        iso.destroy()


@pytest.fixture(scope="session")
def engine(isolated):
    eng = isolated.engine()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def images(isolated, engine):
    """The product's real agent and dev images, built into the isolated engine once."""
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.engine.images import ImageBuilder

    paths = app_paths()
    log = _HOME / "image-build.log"
    with open(log, "a", encoding="utf-8") as out:
        steps = ImageBuilder(engine, paths, load_settings(paths.config_file),
                             progress=lambda line: print(line, file=out, flush=True)).build_all()
    return {step.role: step for step in steps}


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_HOME, ignore_errors=True)
