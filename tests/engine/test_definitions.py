"""A repository's own definition of its environment (issue #21), on the real isolated engine,
offline: a Containerfile at its root and a .devcontainer/devcontainer.json are built (keyed by
content, so a second taskspace reuses the image) with the product's layer on top; SSH works in
both containers; a base image that is not there fails the create with nothing left behind."""

from __future__ import annotations

import json

import pytest

from tests.engine.conftest import inventory
from tests.engine.test_lifecycle import discard, ssh
from tests.engine.test_toolchains import _repo, run_in
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine

BASE = "localhost/symposium/base:bookworm"
DEVCONTAINER = """// the project's dev container (comments and trailing commas are allowed here)
{
    "name": "hello",
    "image": "%s",
    /* both containers get it, and SSH sessions too */
    "containerEnv": {"FOO": "bar", "FROM_HOST": "${localEnv:HOME}"},
    "postCreateCommand": "echo made-by-post-create > $HOME/post-create.txt && echo post-create-ran",
    "forwardPorts": [3000],
}
""" % BASE
CONTAINERFILE = f"FROM {BASE}\nCOPY hello.txt /opt/hello.txt\nRUN echo built-in-the-image >> /opt/hello.txt\n"


def create_cli(isolated, taskspace: str, repo, *extra: str):
    return run_cli("--url", isolated.uri, "create", taskspace, "--repo", str(repo), *extra)


def test_a_devcontainer_json_gives_its_env_and_runs_its_post_create_command(isolated, ctx, lifecycle, tmp_path):
    repo = _repo(tmp_path / "devc", {".devcontainer/devcontainer.json": DEVCONTAINER, "README.md": "hi\n"})
    try:
        made = create_cli(isolated, "defs-devc", repo)
        assert made.returncode == 0, made.stderr
        out = made.stdout + made.stderr
        assert "the repository's own environment (.devcontainer/devcontainer.json)" in out
        assert "post-create-ran" in out  # its output is shown under its step
        assert "forwardPorts is ignored" in out
        assert "containerEnv.FROM_HOST is left out" in out  # nothing of this machine's environment
        for role in ("dev", "agent"):
            assert run_in(ctx, "defs-devc", role, "echo $FOO") == "bar\n"  # SSH sessions
            assert run_in(ctx, "defs-devc", role, "echo ${FROM_HOST:-unset}") == "unset\n"
        assert isolated.cli("exec", "taskspace-defs-devc-agent", "printenv", "FOO").stdout == "bar\n"
        assert run_in(ctx, "defs-devc", "dev", "cat ~/post-create.txt") == "made-by-post-create\n"
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]
        assert next(t for t in listed if t["id"] == "defs-devc")["project_type"] == "devcontainer"
    finally:
        discard(lifecycle, "defs-devc")


def test_a_containerfile_is_built_once_and_both_containers_run_it(isolated, ctx, lifecycle, tmp_path):
    repo = _repo(tmp_path / "cf", {"Containerfile": CONTAINERFILE, "hello.txt": "hello from the repository\n",
                                   "Cargo.toml": "[package]\nname = 'x'\n"})
    try:
        first = create_cli(isolated, "defs-cf1", repo)
        assert first.returncode == 0, first.stderr
        assert "building Containerfile as localhost/symposium/repo-" in first.stdout + first.stderr
        for role in ("dev", "agent"):
            assert run_in(ctx, "defs-cf1", role, "cat /opt/hello.txt") == \
                "hello from the repository\nbuilt-in-the-image\n"
            assert run_in(ctx, "defs-cf1", role, "id -u; pwd") == "1000\n/workspace\n"
        dev_image = isolated.cli("inspect", "--format", "{{.ImageName}}", "taskspace-defs-cf1-dev").stdout.strip()
        assert dev_image.startswith("localhost/symposium/dev-repo-")
        # the same definition: not built again, the same images
        second = create_cli(isolated, "defs-cf2", repo)
        assert second.returncode == 0, second.stderr
        assert "built from the same definition before" in second.stdout + second.stderr
        assert "building Containerfile" not in second.stdout + second.stderr
        assert isolated.cli("inspect", "--format", "{{.ImageName}}", "taskspace-defs-cf2-dev").stdout.strip() == dev_image
        assert ssh(ctx, "defs-cf2-dev", "cat /opt/hello.txt").returncode == 0
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]
        assert {t["id"]: t["project_type"] for t in listed if t["id"].startswith("defs-cf")} == \
            {"defs-cf1": "containerfile", "defs-cf2": "containerfile"}
        # --project-type chooses the product's images instead, and says the Containerfile is not used
        other = create_cli(isolated, "defs-cf3", repo, "--project-type", "none")
        assert other.returncode == 0, other.stderr
        assert "the repository's Containerfile is not used" in other.stdout + other.stderr
        assert ssh(ctx, "defs-cf3-dev", "test -e /opt/hello.txt").returncode == 1
    finally:
        for taskspace in ("defs-cf1", "defs-cf2", "defs-cf3"):
            discard(lifecycle, taskspace)


def test_a_base_image_that_is_not_there_fails_the_create_with_nothing_left(isolated, tmp_path):
    repo = _repo(tmp_path / "nofrom", {"Containerfile": "FROM localhost/nowhere/to-be-found:1\nRUN true\n"})
    before = inventory(isolated)
    failed = create_cli(isolated, "defs-nofrom", repo)
    assert_clean_failure(failed, 1)
    assert "Containerfile did not build" in failed.stderr and "localhost/nowhere/to-be-found" in failed.stderr
    assert inventory(isolated) == before


def test_a_failing_post_create_command_fails_the_create_and_undoes_it(isolated, tmp_path):
    text = DEVCONTAINER.replace("echo made-by-post-create > $HOME/post-create.txt && echo post-create-ran",
                                "echo about-to-fail; exit 3")
    repo = _repo(tmp_path / "badpost", {".devcontainer/devcontainer.json": text})
    before = inventory(isolated)
    failed = create_cli(isolated, "defs-badpost", repo)
    assert_clean_failure(failed, 1)
    assert "postCreateCommand failed (exit code 3): about-to-fail" in failed.stderr
    assert inventory(isolated) == before
