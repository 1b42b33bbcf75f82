"""An engine that answers what a test says: the real adapter (Engine), backend and CLI on top of a
podman client whose REST answers are given as JSON-like values -- well-formed or not. Nothing here
reaches a socket; the private XDG dirs come from the test."""

from __future__ import annotations

from typing import Any

import pytest
from podman import errors as podman_errors

from symposium_tui.backends.podman.adapter import Engine
from symposium_tui.backends.podman.connection import Discovery, Target
from symposium_tui.backends.podman.session import Connection
from symposium_tui.core.hosts import LOCAL, HostSpec

OURS = {"io.symposium.owner": "symposium-tui", "io.symposium.taskspace": "t1"}
DEFAULTS = {"/system/df": {"Volumes": []}, "/containers/stats": {"Stats": []}}


def pod(taskspace: str = "t1", **fields: Any) -> dict[str, Any]:
    """A pod of ours as podman 4.x lists it."""
    answer = {"Id": f"pod-{taskspace}", "Name": f"taskspace-{taskspace}", "Status": "Running",
              "Created": "2024-01-01T00:00:00Z", "Containers": [{"Id": f"infra-{taskspace}", "Status": "running"}],
              "Labels": OURS | {"io.symposium.taskspace": taskspace, "io.symposium.role": "pod",
                                "io.symposium.project": "app", "io.symposium.tier": "standard"}}
    return answer | fields


def container(taskspace: str = "t1", role: str = "dev", **fields: Any) -> dict[str, Any]:
    """One of its containers as podman 4.x lists it (role "infra": the pod's, with its ports)."""
    answer = {"Id": f"{role}-{taskspace}", "Names": [f"{taskspace}-{role}"], "Image": "localhost/x:1",
              "State": "running", "Pod": f"pod-{taskspace}", "PodName": f"taskspace-{taskspace}",
              "Created": 1700000000, "IsInfra": role == "infra",
              "Labels": OURS | {"io.symposium.taskspace": taskspace, "io.symposium.role": role}}
    if role == "infra":
        answer["Ports"] = [{"host_ip": "127.0.0.1", "container_port": 2222, "host_port": 40000, "range": 2,
                            "protocol": "tcp"}]
    return answer | fields


def taskspace(name: str = "t1") -> dict[str, list[dict[str, Any]]]:
    """The list answers of one healthy-looking taskspace."""
    return {"/pods/json": [pod(name)],
            "/containers/json": [container(name, "infra"), container(name, "dev"), container(name, "agent")]}


class _Response:
    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status_code = body, status  # not encoded: a test may give what JSON cannot hold
        self.headers = {"Libpod-API-Version": "4.3.1"}

    def raise_for_status(self) -> None:
        if self.status_code == 404:
            raise podman_errors.NotFound("no such object", explanation="no such object")

    def json(self) -> Any:
        return self.body


class FakeApi:
    """GETs answered from `answers` (path -> JSON-like value); inspecting anything else is
    "no such object", listing it is empty. Nothing is ever changed."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = DEFAULTS | answers
        self.asked: list[str] = []

    def get(self, path: str, params: Any = None, **_: Any) -> _Response:
        self.asked.append(path)
        if isinstance(self.answers.get(path), BaseException):  # a failure no answer should cause
            raise self.answers[path]
        if path in self.answers:
            return _Response(self.answers[path])
        if path == "/_ping":
            return _Response("OK")
        if path.count("/") > 2:  # /pods/NAME/json and such
            return _Response({"cause": "no such object", "message": "no such object", "response": 404}, 404)
        return _Response([])

    def __getattr__(self, method: str) -> Any:
        raise AssertionError(f"a read-only command called {method} on the engine")


class FakeClient:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.api = FakeApi(answers)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


def engine(answers: dict[str, Any], uri: str = "tcp://127.0.0.1:9") -> Engine:
    """The real adapter over FakeClient (a tcp:// address: not this machine's, so nothing is read
    from local volumes or cgroups)."""
    real = Engine(uri)
    real.client.close()
    real.client = FakeClient(answers)
    return real


def fake_connection(answers: dict[str, Any], name: str = LOCAL) -> Connection:
    fake = engine(answers, f"tcp://{name}.invalid:9")
    return Connection(fake, Target(fake.uri, "test", name=name), Discovery())


def use_hosts(monkeypatch: pytest.MonkeyPatch, hosts: dict[str, dict[str, Any]]) -> None:
    """Every connection the CLI makes goes to the named fake host (LOCAL: the one without a name);
    the others are the named hosts of --all-connections."""
    import symposium_tui.backends as backends

    def connect(url: str | None = None, *, connection: str | None = None, **_: Any) -> Connection:
        name = connection or LOCAL
        return fake_connection(hosts[name], name)

    monkeypatch.setattr(backends, "connect", connect)
    monkeypatch.setattr(backends, "named_hosts", lambda **_: [
        HostSpec(name, f"ssh://core@{name}.invalid/run/podman/podman.sock", None, "config.yaml")
        for name in hosts if name != LOCAL])


def private_home(monkeypatch: pytest.MonkeyPatch, home: Any) -> None:
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("HOME", str(home / "home"))
    for var in ("CONTAINER_HOST", "CONTAINER_CONNECTION", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
