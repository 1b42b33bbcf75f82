"""Start an isolated podman engine with the product's images and a few taskspaces, for trying the
dashboard (or taking screenshots) without touching your own pods.

    .venv/bin/python scripts/demo_engine.py      # prints the --url to use; Ctrl-C removes it all
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def start(home: Path):  # noqa: ANN201 - returns the IsolatedEngine
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    from benchmarks.common import make_repo
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.context import LifecycleContext
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.backends.podman.backend import PodmanBackend
    from symposium_tui.backends.podman.images import ImageBuilder
    from testbed.isolated import IsolatedEngine

    iso = IsolatedEngine().start()
    engine = iso.engine()
    paths = app_paths()
    ImageBuilder(engine, paths, load_settings(paths.config_file), lambda line: None).build_all()
    ctx = LifecycleContext(PodmanBackend(engine), paths, load_settings(paths.config_file))
    web = make_repo(home / "src" / "web-shop")
    api = make_repo(home / "src" / "payments-api")
    # Stand-ins for agents (any command runs as the agent): they read their task, say how it
    # goes with symposium-signal, and one asks for the person.
    asks = ("sh", "-c", 'echo "task: $(cat {task})"; symposium-signal progress "running the test suite"; sleep 2; '
            'symposium-signal attention "allow + in e-mail addresses? it changes the signup form too"; '
            "exec bash -l")
    works = ("sh", "-c", 'echo "task: $(cat {task})"; symposium-signal progress "rounding totals in cart.py"; '
             "exec sleep infinity")
    for taskspace, repo, tier, security, agent, task in (
            ("fix-login-2", web, "default", "open", asks, "Make the login accept e-mail addresses with a +"),
            ("checkout-v2", web, "minimal", "restricted", works, "Round checkout totals to cents"),
            ("ledger-sync", api, "default", "isolated", (), None)):
        Creator(ctx).create(CreateRequest(taskspace, parse_repo(str(repo)), tier=tier, security=security,
                                          agent_command=agent, task=task))
    return iso


def start_remote(home: Path, name: str = "buildbox"):  # noqa: ANN201 - (IsolatedEngine, LoopbackSshd)
    """A second engine behind an sshd on 127.0.0.1, named in config.yaml's hosts: as another
    machine would be, with one taskspace made on it over SSH."""
    from benchmarks.common import make_repo
    from symposium_tui.session import context_for
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.paths import app_paths
    from symposium_tui.core.repos import parse_repo
    from symposium_tui.core.services.create import CreateRequest, Creator
    from symposium_tui.backends.podman.images import ImageBuilder
    from testbed.isolated import IsolatedEngine
    from symposium_tui.backends.podman.session import connect
    from testbed.sshd import LoopbackSshd

    iso = IsolatedEngine().start()
    sshd = LoopbackSshd(iso.dir / "sshd", env={"CONTAINER_HOST": iso.uri}).start()
    paths = app_paths()
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f"hosts:\n  {name}:\n    url: {sshd.uri(str(iso.service.socket_path))}\n"
                                 f"    identity: {sshd.client_key}\n")
    settings = load_settings(paths.config_file)
    connection = connect(connection=name, configured=settings.hosts)
    try:
        ImageBuilder(connection.engine, paths, settings, lambda line: None).build_all()
        repo = make_repo(home / "src" / "search-index")
        Creator(context_for(connection, settings)).create(CreateRequest("reindex-7", parse_repo(str(repo))))
    finally:
        connection.close()
    return iso, sshd


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="symposium-demo-"))
    iso = start(home)
    print(f"engine ready: --url {iso.uri}")
    print(f"use the same files: export XDG_CONFIG_HOME={home}/xdg_config_home XDG_DATA_HOME={home}/xdg_data_home "
          f"XDG_STATE_HOME={home}/xdg_state_home", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        iso.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
