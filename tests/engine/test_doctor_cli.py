"""`doctor` and `images` through the real CLI against the isolated engine."""

import json

import pytest

from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def test_doctor_passes_against_a_working_engine(isolated, images):
    result = run_cli("--url", isolated.uri, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in ("podman binary", "engine API", "OCI runtime", "default images",
                 "config/state dirs", "SSH client"):
        assert any(line.startswith("[ok  ] " + name) for line in lines), name
    assert "started and removed a container" in result.stdout


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
