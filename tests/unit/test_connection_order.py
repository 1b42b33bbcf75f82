import json

import pytest

from symposium_tui.core.errors import UsageError
from symposium_tui.backends.podman.connection import candidate_targets, validate_url


def test_url_wins_and_is_explicit():
    targets = candidate_targets("unix:///tmp/x.sock", {"CONTAINER_HOST": "unix:///other.sock"})
    assert [t.uri for t in targets] == ["unix:///tmp/x.sock"]
    assert targets[0].explicit and targets[0].source == "--url"


def test_container_host_comes_next(tmp_path):
    targets = candidate_targets(None, {"CONTAINER_HOST": "unix:///a.sock",
                                       "CONTAINERS_CONF": str(tmp_path / "none.conf")})
    assert [(t.uri, t.source, t.explicit) for t in targets] == [("unix:///a.sock", "CONTAINER_HOST", True)]


def test_default_connection_then_rootful_then_rootless(tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nactive_service = "box"\n'
                    '[engine.service_destinations.box]\nuri = "ssh://me@box/run/podman/podman.sock"\n'
                    'identity = "/k"\n')
    targets = candidate_targets(None, {"CONTAINERS_CONF": str(conf), "XDG_RUNTIME_DIR": "/run/user/7",
                                       "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert [t.uri for t in targets] == ["ssh://me@box/run/podman/podman.sock",
                                        "unix:///run/podman/podman.sock",
                                        "unix:///run/user/7/podman/podman.sock"]
    assert targets[0].identity == "/k"
    assert not targets[0].explicit


def test_podman5_connections_json_is_read(tmp_path):
    cfg = tmp_path / "cfg" / "containers"
    cfg.mkdir(parents=True)
    (cfg / "podman-connections.json").write_text(json.dumps(
        {"Connection": {"Default": "five", "Connections": {"five": {"URI": "unix:///five.sock"}}}}))
    targets = candidate_targets(None, {"CONTAINERS_CONF": str(tmp_path / "none"),
                                       "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert targets[0].uri == "unix:///five.sock"


def test_unknown_named_connection_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="'nope' is not configured"):
        candidate_targets(None, {"CONTAINER_CONNECTION": "nope", "CONTAINERS_CONF": str(tmp_path / "x"),
                                 "XDG_CONFIG_HOME": str(tmp_path)})


@pytest.mark.parametrize("url", ["foo", "http://", "unix://", "ftp://x/y", ""])
def test_bad_urls_are_usage_errors(url):
    with pytest.raises(UsageError):
        validate_url(url)


def test_root_does_not_use_a_socket_of_another_user_it_found_by_itself(tmp_path):
    """#22 item 5: the rootless socket under $XDG_RUNTIME_DIR is tried before the embedded
    service; as root, one another user owns is passed over unless named."""
    import os

    from symposium_tui.backends.podman.connection import Target, foreign_socket

    run = tmp_path / "podman"
    run.mkdir()
    sock = run / "podman.sock"
    sock.write_text("")
    found = Target(f"unix://{sock}", "rootless socket")
    named = Target(f"unix://{sock}", "--url", explicit=True)
    if os.geteuid() == 0:
        assert foreign_socket(found) is None  # root's own
        os.chown(sock, 1000, 1000)
        assert "belongs to uid 1000, not root" in (foreign_socket(found) or "")
        assert foreign_socket(named) is None  # named by the person: used
    assert foreign_socket(found, euid=1000) is None  # a user's own lookups are podman's order
