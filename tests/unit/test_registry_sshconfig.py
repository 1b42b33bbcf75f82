import json
import subprocess
import sys
import textwrap
from pathlib import Path

from symposium_tui.core import sshconfig
from symposium_tui.core.models import ContainerInfo, ContainerState, PodInfo
from symposium_tui.core.registry import Registry
from symposium_tui.core.services.lifecycle import derive_status

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from symposium_tui.core import sshconfig
    from symposium_tui.core.registry import Registry
    base, n = Path(sys.argv[1]), int(sys.argv[2])
    def after(entries):
        sshconfig.write(base / "ssh_config", entries, base / "key", base / "known_hosts")
    Registry(base / "registry.json").put(f"ts-{n}", {"status": "running", "dev_port": 40000 + n,
                                                     "agent_port": 50000 + n}, after=after)
""")


def test_twenty_concurrent_writers_lose_nothing(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)]) for n in range(20)]
    assert [p.wait(60) for p in procs] == [0] * 20
    entries = json.loads((tmp_path / "registry.json").read_text())
    assert sorted(entries) == sorted(f"ts-{n}" for n in range(20))
    assert all(entries[f"ts-{n}"]["dev_port"] == 40000 + n for n in range(20))
    config = (tmp_path / "ssh_config").read_text()
    for n in range(20):
        assert f"Host ts-{n}-dev\n    HostName 127.0.0.1\n    Port {40000 + n}\n" in config
        assert f"Host ts-{n}-agent\n" in config
    assert not list(tmp_path.glob(".*.tmp"))  # no temp files left behind


def test_registry_reconcile_reports_and_fixes_drift(tmp_path):
    registry = Registry(tmp_path / "r.json")
    registry.put("gone", {"status": "running"})
    registry.put("both", {"status": "running", "dev_port": 1})
    drift = registry.reconcile({"both": {"status": "stopped", "dev_port": 1}, "new": {"status": "running"}})
    assert drift.registry_only == ("gone",) and drift.engine_only == ("new",)
    assert registry.read()["both"]["status"] == "stopped"
    assert set(registry.read()) == {"both", "new"}


import pytest  # noqa: E402


def test_two_engines_of_one_machine_keep_their_own_entries_in_the_shared_registry(tmp_path):
    """#22 item 11: another engine's reconcile used to drop this one's entries."""
    socket = tmp_path / "other.sock"
    socket.touch()
    mine, other = Registry(tmp_path / "r.json"), Registry(tmp_path / "r.json", f"unix://{socket}")
    written: list[set[str]] = []
    mine.put("a", {"status": "running", "dev_port": 1})
    other.put("b", {"status": "running"}, after=lambda entries: written.append(set(entries)))
    assert written == [{"a", "b"}]  # the SSH config is written from every engine's entries
    assert set(mine.read()) == {"a"} and set(other.read()) == {"b"}
    drift = other.reconcile({"c": {"status": "running"}})
    assert drift.registry_only == ("b",) and set(other.read()) == {"c"}
    assert mine.read()["a"]["dev_port"] == 1  # untouched by the other engine's reconcile
    assert json.loads((tmp_path / "r.json").read_text())["c"]["engine"] == f"unix://{socket}"
    assert "engine" not in json.loads((tmp_path / "r.json").read_text())["a"]
    # an id is the machine's: the other engine holds c while its socket is there
    assert mine.owner_elsewhere("c") == f"unix://{socket}" and other.owner_elsewhere("a") == ""
    assert mine.owner_elsewhere("a") is None and mine.owner_elsewhere("nothing") is None
    socket.unlink()
    assert mine.owner_elsewhere("c") is None  # a gone engine's entries are stale, not in the way
    mine.remove("c")
    assert "c" in Registry(tmp_path / "r.json", f"unix://{socket}").read()  # remove is scoped too


@pytest.mark.parametrize("damage", [b"{not json", b"\x00\x00\xff\xfe", b'{"a": {"status": "run', b"[1, 2]",
                                    b'{"a": 3}', b"[" * 100000])
def test_a_corrupt_registry_is_moved_aside_with_a_notice_and_rebuilt(tmp_path, damage):
    path = tmp_path / "r.json"
    path.write_bytes(damage)
    registry = Registry(path)
    assert registry.read() == {}
    aside = list(tmp_path.glob("r.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damage  # kept for a look, byte for byte
    notices = registry.take_notices()
    assert len(notices) == 1 and "was corrupt: moved aside to r.json.corrupt-" in notices[0]
    assert registry.take_notices() == []
    registry.reconcile({"a": {"status": "running"}})
    assert json.loads(path.read_text())["a"]["status"] == "running"
    assert registry.take_notices() == []  # the rebuilt file is fine


def test_ssh_config_render_is_stable_and_pins_keys(tmp_path):
    entries = {"b": {"dev_port": 2, "agent_port": 3}, "a": {"dev_port": 4, "agent_port": 5}}
    text = sshconfig.render(entries, Path("/k"), Path("/kh"))
    assert text == sshconfig.render(dict(reversed(entries.items())), Path("/k"), Path("/kh"))
    assert text.index("Host a-dev") < text.index("Host b-dev")
    assert "StrictHostKeyChecking accept-new" in text and "/dev/null" not in text
    assert "HostKeyAlias a-agent" in text and "User agent" in text and "User developer" in text


def test_forget_host_keys_drops_only_that_taskspace(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("a-dev ssh-ed25519 AAAA1\na-agent ssh-ed25519 AAAA2\nab-dev ssh-ed25519 AAAA3\n")
    sshconfig.forget_host_keys(known, "a")
    assert known.read_text() == "ab-dev ssh-ed25519 AAAA3\n"


def _ctr(role: str, state: str) -> ContainerInfo:
    return ContainerInfo(id=role, name=role, image="", state=ContainerState(state))


def test_derive_status():
    pod = PodInfo(id="p", name="taskspace-x", status="running")
    assert derive_status(None, {}) == ("missing", "the pod is gone")
    assert derive_status(pod, {"agent": _ctr("agent", "running"), "dev": _ctr("dev", "running")}) == ("running", "")
    assert derive_status(pod, {"agent": _ctr("agent", "exited"), "dev": _ctr("dev", "exited")}) == ("stopped", "")
    assert derive_status(pod, {"agent": _ctr("agent", "running"), "dev": _ctr("dev", "exited")}) == \
        ("degraded", "dev exited")
    assert derive_status(pod, {"agent": _ctr("agent", "running")}) == ("degraded", "dev missing")
