"""A container's writable layer is asked of podman once, not by every `ls` process (#23): the
answer is kept in the cache dir."""

from __future__ import annotations

from symposium_tui.backends.podman.diskuse import DiskUseMixin
from symposium_tui.core.models import ContainerInfo, ContainerState


class Engine(DiskUseMixin):
    local = True
    uri = "unix:///run/podman/podman.sock"

    def __init__(self, uppers: dict[str, str]) -> None:
        self.uppers, self.asked = uppers, []

    def _get_json(self, what: str, path: str, **params: object) -> object:
        container = path.split("/")[2]
        self.asked.append(container)
        return {"GraphDriver": {"Data": {"UpperDir": self.uppers[container]}}}


def test_a_new_process_reads_the_layers_without_asking_podman_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layers = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_bytes(b"x" * 5000)
        layers[name * 64] = str(tmp_path / name)
    containers = [ContainerInfo(cid, f"taskspace-t-{cid[0]}", "img", ContainerState.RUNNING) for cid in layers]
    first = Engine(layers)
    sizes = first.written_here(containers)
    assert sorted(first.asked) == sorted(layers) and sizes["taskspace-t-a"] >= 5000
    second = Engine(layers)  # another process: a new adapter
    assert second.written_here(containers) == sizes and second.asked == []
    (tmp_path / "b" / "more").write_bytes(b"y" * 8192)
    assert Engine(layers).written_here(containers)["taskspace-t-b"] > sizes["taskspace-t-b"]  # measured anew
    # a damaged cache file is only a cache: podman is asked again
    [kept] = (tmp_path / "cache").rglob("*.json")
    kept.write_text("{not json")
    third = Engine(layers)
    assert third.written_here(containers) == Engine(layers).written_here(containers) and len(third.asked) == 2
