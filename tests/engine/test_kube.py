"""export-kube on the real isolated engine: the YAML is accepted back by `podman kube play` under
another name, and its containers run."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.engine.test_lifecycle import create, discard
from tests.helpers import assert_clean_failure, run_cli

pytestmark = pytest.mark.engine


def test_export_kube_and_play_it_back(isolated, ctx, lifecycle, repo, tmp_path):
    create(ctx, "kube-1", repo)
    exported = tmp_path / "kube-1.yaml"
    copy = tmp_path / "copy.yaml"
    try:
        result = run_cli("--url", isolated.uri, "export-kube", "kube-1", "-o", str(exported))
        assert result.returncode == 0, result.stderr
        text = exported.read_text()
        assert text.startswith("# Exported by symposium-tui from taskspace kube-1.")
        assert "copy-on-write layering" in text and "loopback port publishing" in text
        documents = [d for d in yaml.safe_load_all(text) if d]
        claims = {d["metadata"]["name"]: d for d in documents if d["kind"] == "PersistentVolumeClaim"}
        assert {"taskspace-kube-1-workspace", "taskspace-kube-1-agent-state",
                "taskspace-kube-1-build-cache"} <= set(claims)
        limit = ctx.policy.resolve(None, "demo-project")[1]
        assert claims["taskspace-kube-1-workspace"]["spec"]["resources"]["requests"]["storage"] == \
            f"{limit.storage // 2**30}Gi"
        assert claims["taskspace-kube-1-agent-state"]["spec"]["resources"]["requests"]["storage"] == "1Gi"
        [pod] = [d for d in documents if d["kind"] == "Pod"]
        assert pod["metadata"]["labels"]["io.symposium.taskspace"] == "kube-1"
        assert pod["metadata"]["annotations"]["io.symposium.repo"] == str(repo)  # not a valid label value
        containers = pod["spec"]["containers"]
        assert len(containers) == 2
        for container in containers:
            assert container["resources"]["limits"] == {"memory": "4Gi", "cpu": "2000m"}
            assert all("hostPort" not in p and "hostIP" not in p for p in container.get("ports", []))
        claimed = {v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
                   if "persistentVolumeClaim" in v}
        assert claimed <= set(claims)

        # Played back under another name (the claims renamed too), its containers run.
        text = text.replace("taskspace-kube-1", "kube-copy")
        copy.write_text(text)
        played = isolated.cli("kube", "play", str(copy), check=False)
        assert played.returncode == 0, played.stderr
        states = {c["Names"][0] if isinstance(c["Names"], list) else c["Names"]: c["State"] for c in
                  json.loads(isolated.cli("ps", "-a", "--filter", "pod=kube-copy", "--format", "json").stdout)}
        running = [name for name, state in states.items() if state == "running" and not name.endswith("-infra")]
        assert len(running) == 2, states
    finally:
        if copy.exists():
            isolated.cli("kube", "down", str(copy), check=False)
            names = isolated.cli("volume", "ls", "--format", "{{.Name}}").stdout.split()
            leftovers = [n for n in names if n.startswith("kube-copy")]
            if leftovers:
                isolated.cli("volume", "rm", "--force", *leftovers, check=False)
        discard(lifecycle, "kube-1")


def test_export_kube_of_nothing_fails_cleanly(isolated, ctx):
    result = run_cli("--url", isolated.uri, "export-kube", "no-such-taskspace")
    assert_clean_failure(result, 1)
    assert "no taskspace 'no-such-taskspace'" in result.stderr
