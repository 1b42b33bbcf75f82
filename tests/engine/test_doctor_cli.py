"""`doctor` and `images` through the real CLI against the isolated engine."""

import json

import pytest

from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


@pytest.mark.network_backends
def test_doctor_passes_against_a_working_engine(isolated, images, backend):
    result = run_cli("--url", isolated.uri, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in ("podman binary", "engine API", "OCI runtime", "default images", "pod and SSH port",
                 "config/state dirs", "SSH client"):
        assert any(line.startswith("[ok  ] " + name) for line in lines), name
    assert "started and removed a container" in result.stdout
    pod = next(line for line in lines if "pod and SSH port" in line)
    assert f"network backend {backend}: a throwaway pod published 127.0.0.1:" in pod
    assert "its sshd answered there" in pod
    # the throwaway pod and its container are gone again
    assert isolated.cli("pod", "ps", "-q").stdout.strip() == ""
    assert "symposium-doctor" not in isolated.cli("ps", "-a", "--format", "{{.Names}}").stdout


def test_doctor_names_the_missing_pause_binary_and_its_fix(images, engine_pool, tmp_path):
    """On a machine without podman's pause binary (podman without recommends: no catatonit),
    every pod create fails; doctor says so with the exact fix, and create says it too."""
    from testbed.isolated import IsolatedEngine
    from tests.conftest import _copy_images

    iso = IsolatedEngine(hide_helpers=("catatonit",)).start()
    try:
        _copy_images(engine_pool.get("netavark"), iso)
        result = run_cli("--url", iso.uri, "doctor")
        assert result.returncode == 1, result.stdout
        pod = next(line for line in result.stdout.splitlines() if "pod and SSH port" in line)
        assert pod.startswith("[FAIL]") and "catatonit" in pod, result.stdout
        fix = result.stdout.splitlines()[result.stdout.splitlines().index(pod) + 1]
        assert "fix: install podman's pause binary: apt-get install catatonit" in fix
        assert "infra_image" in fix
        repo = tmp_path / "r"
        from tests.engine.conftest import make_repo
        make_repo(repo)
        created = run_cli("--url", iso.uri, "create", "nopause", "--repo", str(repo))
        assert_clean_failure(created, 1)
        assert "apt-get install catatonit" in created.stderr
        assert iso.cli("pod", "ps", "-q").stdout.strip() == ""  # rolled back
    finally:
        iso.destroy()


def test_doctor_json(isolated, images):
    result = run_cli("--url", isolated.uri, "doctor", "--json")
    data = json.loads(result.stdout)
    assert data["ok"] is True and result.returncode == 0
    assert {c["name"] for c in data["checks"]} >= {"engine API", "OCI runtime"}


def test_doctor_fails_clearly_when_container_host_is_missing(tmp_path):
    missing = f"unix://{tmp_path}/missing.sock"
    result = run_cli("doctor", env={"CONTAINER_HOST": missing})
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    api = next(line for line in result.stdout.splitlines() if "engine API" in line)
    assert api.startswith("[FAIL]") and missing in api and "no such socket" in api


def test_doctor_flags_missing_images_with_the_fix(isolated, images, tmp_path):
    result = run_cli("--url", isolated.uri, "doctor",
                     env={"SYMPOSIUM_DEV_IMAGE": "localhost/nope/dev:1"})
    assert result.returncode == 1
    assert "localhost/nope/dev:1" in result.stdout
    assert "fix: symposium-tui images build" in result.stdout


def test_doctor_flags_unwritable_dirs(isolated, images, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    result = run_cli("--url", isolated.uri, "doctor", env={"XDG_STATE_HOME": str(blocker)})
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if "config/state dirs" in x)
    assert line.startswith("[FAIL]") and str(blocker) in line


def test_images_list_json(isolated, images):
    result = run_cli("--url", isolated.uri, "images", "list", "--json")
    data = json.loads(result.stdout)
    assert data["agent"] == images["agent"].image and data["dev"] == images["dev"].image
    assert data["details"]["dev"]["present"] is True
    assert data["details"]["dev"]["id"] == images["dev"].image_id


def test_images_build_is_quick_when_up_to_date(isolated, images):
    result = run_cli("--url", isolated.uri, "images", "build", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [i["built"] for i in data["images"]] == [False, False, False]


def test_engine_commands_fail_cleanly_when_engine_is_gone(tmp_path):
    result = run_cli("--url", f"unix://{tmp_path}/gone.sock", "images", "list")
    assert_clean_failure(result, 1)
    assert "unreachable" in result.stderr
