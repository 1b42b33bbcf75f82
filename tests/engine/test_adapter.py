"""The adapter against the real isolated engine (podman 4.3.1 on these hosts)."""

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.errors import EngineUnavailable
from symposium_tui.core.models import ContainerState
from symposium_tui.backends.podman.adapter import Engine

pytestmark = pytest.mark.engine


def test_version_and_info(engine, isolated):
    info = engine.info()
    assert info.version.major_minor >= (4, 3)
    assert info.graph_root == str(isolated.root)  # really the private store
    assert info.oci_runtime in ("runc", "crun")


def test_container_states_are_normalized_on_list_results(engine, images):
    client = engine.client
    ctr = client.containers.create(images["dev"].image, command=["sleep", "300"], entrypoint=[],
                                   labels=L.ours("probe", "adapter-test"), name="adapter-state")
    try:
        listed = {c.name: c for c in engine.containers()}
        assert listed["adapter-state"].state is ContainerState.CREATED
        ctr.start()
        running = {c.name: c for c in engine.containers()}["adapter-state"]
        assert running.state is ContainerState.RUNNING and running.running
        assert running.started is not None
        ctr.stop(timeout=0)
        stopped = {c.name: c for c in engine.containers()}["adapter-state"]
        assert stopped.state is ContainerState.EXITED  # one word, however soon it is looked at
        assert stopped.exit_code is not None
    finally:
        ctr.remove(force=True)


def test_label_selector_matches_only_ours(engine, images):
    client = engine.client
    mine = client.containers.create(images["dev"].image, command=["true"], entrypoint=[],
                                    labels=L.ours("dev", "sel-test"), name="taskspace-sel-test-dev")
    lookalike = client.containers.create(images["dev"].image, command=["true"], entrypoint=[],
                                         labels={"io.symposium.taskspace": "sel-test"},
                                         name="taskspace-sel-test-fake")
    try:
        found = engine.containers({L.OWNER: L.OWNER_VALUE, L.TASKSPACE: "sel-test"})
        assert [c.name for c in found] == ["taskspace-sel-test-dev"]
        assert engine.containers({L.OWNER: L.OWNER_VALUE, L.TASKSPACE: "no-such"}) == []
    finally:
        mine.remove(force=True)
        lookalike.remove(force=True)


def test_pods_ports_and_infra_flag(engine, images):
    client = engine.client
    pod = client.pods.create("adapter-pod", labels=L.ours("pod", "adapter-pod"), portmappings=[
        {"host_ip": "127.0.0.1", "container_port": 2222, "host_port": 0, "protocol": "tcp"}])
    try:
        client.containers.create(images["dev"].image, pod="adapter-pod", name="adapter-pod-dev")
        pod.start()
        pods = engine.pods({L.OWNER: L.OWNER_VALUE, L.TASKSPACE: "adapter-pod"})
        assert [p.name for p in pods] == ["adapter-pod"]
        assert pods[0].status == "running"
        members = [c for c in engine.containers() if c.pod_id == pods[0].id]
        infra = [c for c in members if c.is_infra]
        assert len(infra) == 1 and len(members) == 2
        binding = next(b for b in infra[0].ports if b.container_port == 2222)
        assert binding.host_ip == "127.0.0.1" and binding.host_port > 0
    finally:
        pod.remove(force=True)


def test_throwaway_container_reports_exit_code_and_streams(engine, images):
    result = engine.run_throwaway(images["dev"].image, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not [c for c in engine.containers() if c.labels.get(L.ROLE) == "probe"]


def test_missing_image_is_none(engine):
    assert engine.image("localhost/does-not-exist:1") is None


def test_unreachable_engine_raises_engine_unavailable(tmp_path):
    with Engine(f"unix://{tmp_path}/nothing.sock", timeout=2) as dead:
        assert dead.ping() is False
        with pytest.raises(EngineUnavailable, match="unreachable"):
            dead.containers()
