"""The default images: built with no registry, SSH as the right user with the product's key."""

import subprocess

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.config import load_settings
from symposium_tui.core.paths import app_paths
from symposium_tui.backends.podman.images import ImageBuilder
from tests.helpers import tcp_open, wait_until

pytestmark = pytest.mark.engine


def test_images_exist_with_our_labels(engine, images):
    for role in ("base", "dev", "agent"):
        image = engine.image(images[role].image)
        assert image is not None, role
        assert image.labels[L.IMAGE_ROLE] == role
        assert L.OWNER not in image.labels  # containers inherit image labels
        assert image.labels[L.IMAGE_RECIPE]


def test_second_build_reuses_everything(engine, images):
    lines: list[str] = []
    paths = app_paths()
    steps = ImageBuilder(engine, paths, load_settings(paths.config_file), lines.append).build_all()
    assert [s.built for s in steps] == [False, False, False]
    assert [s.image_id for s in steps] == [images[r].image_id for r in ("base", "dev", "agent")]
    assert all("up to date" in line for line in lines)


def _ssh(port: int, user: str, command: str) -> subprocess.CompletedProcess[str]:
    key = app_paths().ssh_key
    return subprocess.run(
        ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "ConnectTimeout=5", f"{user}@127.0.0.1", command],
        capture_output=True, text=True, timeout=30)


def test_ssh_into_dev_and_agent_with_the_products_key(engine, images):
    client = engine.client
    pod = client.pods.create("images-ssh", labels=L.ours("pod", "images-ssh"), portmappings=[
        {"host_ip": "127.0.0.1", "container_port": 2222, "host_port": 0, "protocol": "tcp"},
        {"host_ip": "127.0.0.1", "container_port": 2223, "host_port": 0, "protocol": "tcp"}])
    try:
        client.containers.create(images["dev"].image, pod="images-ssh", name="images-ssh-dev")
        client.containers.create(images["agent"].image, pod="images-ssh", name="images-ssh-agent")
        pod.start()
        infra = next(c for c in engine.containers() if c.is_infra and c.pod_name == "images-ssh")
        ports = {b.container_port: b.host_port for b in infra.ports}
        for container_port, user in ((2222, "developer"), (2223, "agent")):
            port = ports[container_port]
            wait_until(lambda: tcp_open(port), 30, f"sshd on {port}")
            result = wait_until(lambda: (r := _ssh(port, user, "id -un; git --version; tmux -V")) and
                                r.returncode == 0 and r, 30, f"ssh login as {user}")
            out = result.stdout.splitlines()
            assert out[0] == user
            assert out[1].startswith("git version")
            assert out[2].startswith("tmux ")
        # Password and root logins are refused: only the product's key works.
        refused = _ssh(ports[2222], "root", "true")
        assert refused.returncode != 0
    finally:
        pod.remove(force=True)
