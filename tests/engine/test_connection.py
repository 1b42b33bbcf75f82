"""Engine discovery and the embedded service, for real."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.backends.podman import connection as conn
from symposium_tui.backends.podman.session import connect
from tests.helpers import wait_until

pytestmark = pytest.mark.engine


@pytest.fixture
def private_storage(tmp_path, monkeypatch):
    """Nothing answers where podman looks; an embedded service then uses a private store."""
    storage = tmp_path / "storage.conf"
    storage.write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{tmp_path}/root"\n'
                       f'runroot = "{tmp_path}/run"\n')
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", str(storage))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg-run"))
    monkeypatch.setenv("CONTAINERS_CONF", str(tmp_path / "no-containers.conf"))
    (tmp_path / "no-containers.conf").write_text("")
    monkeypatch.setattr(conn, "ROOTFUL_SOCKET", str(tmp_path / "no-rootful.sock"))
    yield tmp_path
    for line in Path("/proc/mounts").read_text().splitlines():
        point = line.split()[1]
        if point.startswith(str(tmp_path)):
            subprocess.run(["umount", "-l", point], check=False)


def test_url_connects_to_that_engine(isolated):
    connection = connect(isolated.uri)
    try:
        assert connection.target.source == "--url"
        assert connection.service is None
        assert connection.engine.info().graph_root == str(isolated.root)
    finally:
        connection.close()


def test_container_host_is_used_and_never_falls_back(monkeypatch, isolated, tmp_path):
    monkeypatch.setenv("CONTAINER_HOST", isolated.uri)
    connection = connect()
    assert connection.target.source == "CONTAINER_HOST"
    connection.close()
    monkeypatch.setenv("CONTAINER_HOST", f"unix://{tmp_path}/missing.sock")
    with pytest.raises(EngineUnavailable, match="CONTAINER_HOST"):
        connect()


def test_embedded_service_starts_works_and_stops(private_storage):
    connection = connect()
    service = connection.service
    try:
        assert connection.target.source == "embedded service"
        assert service is not None and service.running
        info = connection.engine.info()
        assert info.graph_root == str(private_storage / "root")
        # The host fixes are applied: on hybrid cgroups the service runs runc, not crun.
        from symposium_tui.backends.podman.hostfix import cgroup_mode

        if cgroup_mode() != "unified":
            assert info.oci_runtime == "runc"
            assert any("runc" in r for r in connection.host_fixes)
        conf = (service.socket_dir / "containers.conf").read_text()
        assert "/etc" not in str(service.containers_conf)
        assert "default_ulimits" in conf or "runtime" in conf
    finally:
        connection.close()
    assert not service.running
    assert not service.socket_dir.exists()


@pytest.mark.parametrize("recorded", [None, "cni", "netavark"])
def test_embedded_service_names_its_network_backend(private_storage, recorded):
    """Never by what is installed: the store's recorded backend (its containers network only
    with that one), else netavark; doctor's host fixes say which and why."""
    if recorded:
        (private_storage / "root").mkdir(parents=True, exist_ok=True)
        (private_storage / "root" / "defaultNetworkBackend").write_text(recorded)
    connection = connect()
    try:
        assert connection.engine.info().network_backend == (recorded or "netavark")
        why = "the one its store already uses" if recorded else "the default"
        assert f"network backend {recorded or 'netavark'} ({why})" in connection.host_fixes
    finally:
        connection.close()


def test_embedded_service_dies_with_a_killed_parent(private_storage):
    script = textwrap.dedent("""
        import sys, time
        from symposium_tui.backends.podman import connection as conn
        conn.ROOTFUL_SOCKET = sys.argv[1]
        from symposium_tui.backends.podman.session import connect
        c = connect()
        print(c.service._proc.pid, flush=True)
        time.sleep(120)
    """)
    child = subprocess.Popen([sys.executable, "-c", script, str(private_storage / "none.sock")],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        service_pid = int(child.stdout.readline())
        assert _alive(service_pid)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        wait_until(lambda: not _alive(service_pid), 20, "the service to exit after SIGKILL of its parent")
    finally:
        child.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_podman_and_no_engine_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no podman binary anywhere
    monkeypatch.setenv("CONTAINERS_CONF", str(tmp_path / "none.conf"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(conn, "ROOTFUL_SOCKET", str(tmp_path / "none.sock"))
    with pytest.raises(EngineUnavailable) as caught:
        connect()
    assert "podman is not installed" in caught.value.message
    assert "apt-get install podman" in (caught.value.hint or "")
