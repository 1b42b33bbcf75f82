"""The dev environment (issue #21), on the real isolated engine, offline: a repository's toolchain
is detected from the files at its start commit, both containers have it, and each tool's build
cache is in /workspace/.build-cache, so a rebuild after a restart finds everything fresh."""

from __future__ import annotations

import json

import pytest

from tests.engine.test_lifecycle import create, discard, ssh
from tests.helpers import run_cli

pytestmark = pytest.mark.engine

CRATE = {
    "Cargo.toml": '[package]\nname = "hello"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/main.rs": 'fn main() {\n    println!("hello from rust");\n}\n',
}
PACKAGE = {
    "setup.py": "from setuptools import setup\nsetup(name='hello', version='0.1', py_modules=['hello'])\n",
    "hello.py": "def greet():\n    return 'hello from python'\n",
}
GO = {
    "go.mod": "module example.com/hello\n\ngo 1.19\n",
    "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello from go")\n}\n',
}
NODE = {
    "package.json": '{"name": "hello", "version": "1.0.0", "scripts": {"test": "node test.js"}}\n',
    "test.js": "console.log('hello from node');\n",
}


def _repo(path, files):
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    identity = ["-c", "user.email=t@example.com", "-c", "user.name=Test"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], [*identity, "commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *cmd], cwd=path, check=True, capture_output=True)
    return path


def run_in(ctx, taskspace: str, role: str, command: str) -> str:
    done = ssh(ctx, f"{taskspace}-{role}", f"cd /workspace && {command}")
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def test_a_rust_crate_builds_in_both_containers_and_a_rebuild_after_restart_is_fresh(isolated, ctx, lifecycle,
                                                                                      tmp_path):
    repo = _repo(tmp_path / "crate", CRATE)
    made = create(ctx, "tools-rust", repo)
    try:
        assert made.project_type == "rust"
        listed = json.loads(run_cli("--url", isolated.uri, "ls", "--json").stdout)["taskspaces"]
        assert next(t for t in listed if t["id"] == "tools-rust")["project_type"] == "rust"
        built = run_in(ctx, "tools-rust", "dev", "cargo build --offline 2>&1 && /workspace/.build-cache/target/debug/hello")
        assert "Compiling hello" in built and "hello from rust" in built
        assert run_in(ctx, "tools-rust", "dev", "echo $CARGO_TARGET_DIR") == "/workspace/.build-cache/target\n"
        assert "hello from rust" in run_in(ctx, "tools-rust", "agent", "cargo run --offline -q")
        lifecycle.restart("tools-rust")
        again = run_in(ctx, "tools-rust", "dev", "cargo build --offline 2>&1")
        assert "Compiling" not in again and "Finished" in again  # everything fresh in the cache
        # the build stays out of the copy-on-write layer: git sees only the lock file cargo wrote
        assert run_in(ctx, "tools-rust", "dev", "git status --porcelain") == "?? Cargo.lock\n"
    finally:
        discard(lifecycle, "tools-rust")


def test_a_python_package_installs_offline_and_a_node_package_tests(isolated, ctx, lifecycle, tmp_path):
    """One repository with both (a web front end beside a Python package): both toolchains."""
    both = _repo(tmp_path / "pkg", PACKAGE | NODE)
    try:
        assert create(ctx, "tools-both", both).project_type == "node+python"
        out = run_in(ctx, "tools-both", "dev", "python3 -m venv /tmp/venv && PIP_NO_INDEX=1 /tmp/venv/bin/pip install "
                                               "-q -e . && /tmp/venv/bin/python -c 'import hello; print(hello.greet())'")
        assert "hello from python" in out
        assert "hello from node" in run_in(ctx, "tools-both", "dev", "npm test")
        assert "hello from node" in run_in(ctx, "tools-both", "agent", "npm test")
        # node_modules lives in the build cache, and git does not list it; nor Python's bytecode
        assert run_in(ctx, "tools-both", "dev", "readlink node_modules") == ".build-cache/node_modules\n"
        assert "node_modules" not in run_in(ctx, "tools-both", "dev", "git status --porcelain")
        assert run_in(ctx, "tools-both", "dev", "find . -path ./.build-cache -prune -o -name __pycache__ -print") == ""
        assert run_in(ctx, "tools-both", "dev", "ls .build-cache/pycache") != ""
    finally:
        discard(lifecycle, "tools-both")


def test_a_go_module_builds_with_its_caches_in_the_build_cache(isolated, ctx, lifecycle, tmp_path):
    repo = _repo(tmp_path / "gomod", GO)
    try:
        assert create(ctx, "tools-go", repo).project_type == "go"
        assert "hello from go" in run_in(ctx, "tools-go", "dev", "go run .")
        assert run_in(ctx, "tools-go", "agent", "go env GOCACHE GOMODCACHE") == \
            "/workspace/.build-cache/go-build\n/workspace/.build-cache/go-mod\n"
        assert run_in(ctx, "tools-go", "dev", "ls /workspace/.build-cache/go-build | head -1") != ""
    finally:
        discard(lifecycle, "tools-go")


def test_project_type_overrides_detection_and_a_bad_one_is_a_usage_error(isolated, ctx, lifecycle, repo):
    bad = run_cli("--url", isolated.uri, "create", "tools-bad", "--repo", str(repo), "--project-type", "cobol")
    assert bad.returncode == 2 and "--project-type 'cobol'" in bad.stderr
    plain = create(ctx, "tools-none", repo)
    try:
        assert plain.project_type == "none"
    finally:
        discard(lifecycle, "tools-none")
