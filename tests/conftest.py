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
             "SYMPOSIUM_BASE_IMAGE", "COLUMNS"):
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


BACKENDS = ("netavark", "cni")
DEFAULT_BACKEND = "netavark"


class Backend:
    """One isolated engine of the session with a network backend of its own, and its images."""

    def __init__(self, iso, engine, images) -> None:
        self.iso, self.engine, self.images = iso, engine, images


# The images the engine tests use, built once per machine and recipe into a store of their own
# (like the root file systems in the cache dir): every session's engines read them from there,
# read-only, so a session builds nothing unless a recipe changed. The toolchain environments the
# tests make are in it too (a Rust one is 900 MB of root file system).
IMAGE_STORE = Path.home() / ".cache" / "symposium-tui" / "test-image-store"
TEST_ENVIRONMENTS = (("rust",), ("node", "python"), ("go",))


def cached_images() -> Path:
    """Bring the store's images up to date (under a lock: sessions may run at once); its root.
    The tests' SSH key is kept beside it, as the dev and agent images carry the public half."""
    import fcntl
    import shutil

    from symposium_tui.core.config import load_settings
    from symposium_tui.core.keys import ensure_key
    from symposium_tui.core.paths import app_paths
    from symposium_tui.backends.podman.images import ImageBuilder
    from testbed.isolated import IsolatedEngine

    paths = app_paths()
    IMAGE_STORE.mkdir(parents=True, exist_ok=True)
    with open(IMAGE_STORE / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = IMAGE_STORE / "key"
        if (kept / "id_ed25519").is_file():
            paths.ssh_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            for name in ("id_ed25519", "id_ed25519.pub"):
                shutil.copy2(kept / name, paths.ssh_key.parent / name.replace("id_ed25519", paths.ssh_key.name))
        else:
            ensure_key(paths.ssh_key)
            kept.mkdir(mode=0o700, exist_ok=True)
            shutil.copy2(paths.ssh_key, kept / "id_ed25519")
            shutil.copy2(paths.ssh_key.with_name(paths.ssh_key.name + ".pub"), kept / "id_ed25519.pub")
        # libpod's database remembers the run and temporary dirs of the engine that made it (each
        # start has new ones); it holds containers and pods, of which this engine has none, and
        # not the images (those are the store's).
        (IMAGE_STORE / "root" / "libpod" / "bolt_state.db").unlink(missing_ok=True)
        iso = IsolatedEngine(root=IMAGE_STORE / "root").start()
        engine = iso.engine()
        try:
            builder = ImageBuilder(engine, paths, load_settings(paths.config_file),
                                   progress=lambda line: _log_build(line))
            builder.build_all()
            for types in TEST_ENVIRONMENTS:
                builder.build_for(types)
        finally:
            engine.close()
            iso.destroy()
    return IMAGE_STORE / "root"


def _log_build(line: str) -> None:
    with open(_HOME / "image-build.log", "a", encoding="utf-8") as out:
        print(line, file=out)


class EnginePool:
    """The session's isolated engines, one per podman network backend, each started when a test
    first needs it and destroyed at the end. Their images come from the cached store (read-only,
    an additional image store of each): one image build per machine and recipe, no copies."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._store: Path | None = None

    def get(self, backend: str) -> Backend:
        if backend not in self._backends:
            self._backends[backend] = self._start(backend)
        return self._backends[backend]

    def _start(self, backend: str) -> Backend:
        from testbed.isolated import IsolatedEngine

        if self._store is None:
            self._store = cached_images()
        iso = IsolatedEngine(network_backend=backend, image_store=self._store).start()
        engine = iso.engine()
        try:
            images = _build_images(engine)
        except BaseException:
            engine.close()
            iso.destroy()
            raise
        return Backend(iso, engine, images)

    def close(self) -> None:
        for backend in reversed(list(self._backends.values())):  # the image store's engine last
            backend.engine.close()
            backend.iso.destroy()


def _build_images(engine):
    """The product's real agent and dev images (up to date at once where they were loaded)."""
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.backends.podman.images import ImageBuilder

    paths = app_paths()
    with open(_HOME / "image-build.log", "a", encoding="utf-8") as out:
        steps = ImageBuilder(engine, paths, load_settings(paths.config_file),
                             progress=lambda line: print(line, file=out, flush=True)).build_all()
    return {step.role: step for step in steps}


def _copy_images(source: Backend, target) -> None:
    """The product's images, copied (podman save | podman load): for an engine that must not see
    the source's other images (its pause image, on a machine without a pause binary)."""
    import subprocess

    names = [step.image for step in source.images.values()]
    save = subprocess.Popen([*source.iso.cli_prefix(), "save", "--quiet", "-m", *names],
                            stdout=subprocess.PIPE, env=source.iso.service.environment())
    load = subprocess.run([*target.cli_prefix(), "load", "--quiet"], stdin=save.stdout, capture_output=True,
                          text=True, env=target.service.environment())
    save.stdout.close()
    assert save.wait() == 0 and load.returncode == 0, load.stderr[-2000:]


@pytest.fixture(scope="session")
def engine_pool():
    pool = EnginePool()
    try:
        yield pool
    finally:
        pool.close()


def pytest_generate_tests(metafunc):
    """Tests marked `network_backends` run once on each podman network backend (netavark, CNI)."""
    if metafunc.definition.get_closest_marker("network_backends") and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend(request) -> str:
    return getattr(request, "param", DEFAULT_BACKEND)


@pytest.fixture(scope="module")
def isolated(engine_pool, backend):
    return engine_pool.get(backend).iso


@pytest.fixture(scope="module")
def engine(engine_pool, backend):
    return engine_pool.get(backend).engine


@pytest.fixture(scope="module")
def images(engine_pool, backend):
    return engine_pool.get(backend).images


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_HOME, ignore_errors=True)


# -- shared by tests/engine and tests/ui: defined once here, so a session makes each once ----------
@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    from tests.engine.conftest import make_repo

    return make_repo(tmp_path_factory.mktemp("repos") / "demo-project",
                     {"README.md": "hello\n", "src.txt": "original\n"})


@pytest.fixture(scope="session")
def remote_host(engine_pool):
    """Started once per session; its images are built through the product over SSH (after the
    first engine's, so the root file system cache is there)."""
    engine_pool.get("netavark")
    from symposium_tui.core.paths import app_paths
    from testbed.isolated import IsolatedEngine
    from testbed.sshd import LoopbackSshd
    from tests.engine.conftest import RemoteHost
    from tests.helpers import run_cli

    iso = IsolatedEngine().start()
    # podman run in an SSH session there is a client of the second engine, as on a real box.
    sshd = LoopbackSshd(iso.dir / "sshd", env={"CONTAINER_HOST": iso.uri})
    try:
        sshd.start()
        host = RemoteHost(iso, sshd)
        with host.configured(app_paths().config_file):
            built = run_cli("images", "build", "--connection", host.name, "--json", timeout=900)
        assert built.returncode == 0, built.stderr[-2000:]
        yield host
    finally:
        sshd.stop()
        iso.destroy()
