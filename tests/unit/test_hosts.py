"""Engine hosts as pure logic: names, config.yaml's hosts:, podman's connection list, SSH entries
with ProxyJump, per-host paths and the --connection options."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from symposium_tui.cli.parser import build_parser
from symposium_tui.core import sshconfig
from symposium_tui.core.config import load_settings
from symposium_tui.core.errors import ConfigError, UsageError
from symposium_tui.core.hosts import HostSpec, check_host_name, pick
from symposium_tui.core.paths import app_paths
from symposium_tui.backends.podman.connection import candidate_targets, connection_target, named_hosts
from symposium_tui.backends.podman.tunnel import SshDestination


@pytest.mark.parametrize("name", ["box2", "dev.example", "a", "Box_2-b", "x" * 63])
def test_good_host_names(name):
    assert check_host_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "../x", "a/b", "a b", "a;rm", "x" * 64, "bоx"])  # Cyrillic о
def test_bad_host_names_are_usage_errors(name):
    with pytest.raises(UsageError):
        check_host_name(name)


def test_config_hosts_are_read_and_checked(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("hosts:\n  box2:\n    url: ssh://core@box2:2222/run/podman/podman.sock\n"
                      "    identity: ~/.ssh/id_box2\n")
    hosts = load_settings(config, {}).hosts
    assert hosts == (HostSpec("box2", "ssh://core@box2:2222/run/podman/podman.sock", "~/.ssh/id_box2",
                              "config.yaml"),)
    assert hosts[0].remote


@pytest.mark.parametrize("text, where", [
    ("hosts: [a]\n", "hosts"),
    ("hosts:\n  local:\n    url: ssh://x/y\n", "hosts.local"),
    ("hosts:\n  'a b':\n    url: ssh://x/y\n", "hosts.a b"),
    ("hosts:\n  b:\n    url: http://x/y\n", "hosts.b.url"),
    ("hosts:\n  b:\n    uri: ssh://x/y\n", "hosts.b"),
    ("hosts:\n  b:\n    url: ssh://x/y\n    key: k\n", "hosts.b.key"),
    ("hosts:\n  b:\n    url: ssh://x/y\n    identity: ''\n", "hosts.b.identity"),
])
def test_bad_config_hosts_name_the_line(tmp_path, text, where):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=re.escape("config.yaml:")) as caught:
        load_settings(config, {})
    assert where in caught.value.message


def test_podman_connections_and_config_hosts_merge(tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nactive_service = "box2"\n'
                    '[engine.service_destinations.box2]\nuri = "ssh://a@b:22/run/p.sock"\nidentity = "/k"\n'
                    '[engine.service_destinations."bad name"]\nuri = "ssh://a@c/run/p.sock"\n'
                    '[engine.service_destinations.box3]\nuri = "ssh://a@d/run/p.sock"\n')
    environ = {"CONTAINERS_CONF": str(conf), "XDG_CONFIG_HOME": str(tmp_path / "none")}
    configured = (HostSpec("box3", "ssh://z@e/run/q.sock", None, "config.yaml"),)
    hosts = {h.name: h for h in named_hosts(environ, configured)}
    assert set(hosts) == {"box2", "box3"}  # a name that cannot be a host name is left out
    assert hosts["box2"] == HostSpec("box2", "ssh://a@b:22/run/p.sock", "/k", "podman connection")
    assert hosts["box3"].source == "config.yaml"  # the product's own list wins on equal names
    target = connection_target("box2", environ, configured)
    assert (target.name, target.explicit, target.identity) == ("box2", True, "/k")
    # podman's default connection names the host of commands without --connection ...
    assert candidate_targets(None, environ)[0].name == "box2"
    # ... and "local" is this machine's engine whatever podman's default is.
    assert all(t.name == "local" for t in candidate_targets(None, environ, use_connections=False))
    with pytest.raises(UsageError, match="known: local, box2, box3"):
        pick(named_hosts(environ, configured), "nope")


@pytest.mark.parametrize("uri, expected", [
    ("ssh://core@box:2222/run/podman/podman.sock", ("core", "box", 2222, "/run/podman/podman.sock")),
    ("ssh://box/run/user/1000/podman/podman.sock", (None, "box", 22, "/run/user/1000/podman/podman.sock")),
    ("ssh://root@127.0.0.1:40000", ("root", "127.0.0.1", 40000, "")),  # asked of the host later
])
def test_ssh_destinations(uri, expected):
    dest = SshDestination(uri)
    assert (dest.user, dest.host, dest.port, dest.socket_path) == expected


@pytest.mark.parametrize("uri", ["tcp://box:1", "ssh:///run/x.sock", "ssh://box:99999/x",
                                 "ssh://-oProxyCommand=x/run/x.sock", "ssh://box/run/a b.sock"])
def test_bad_ssh_destinations(uri):
    with pytest.raises(UsageError):
        SshDestination(uri)


def test_remote_entries_go_through_the_host(tmp_path):
    jump = sshconfig.Jump("box2", "10.0.0.7", 2222, "core", "/keys/box2")
    text = sshconfig.render({"fix-1": {"dev_port": 40001, "agent_port": 40002}}, Path("/k/id"),
                            Path("/k/known_hosts"), host="box2", jump=jump)
    assert "Host symposium-jump.box2\n    HostName 10.0.0.7\n    Port 2222\n    User core\n" in text
    assert 'IdentityFile "/keys/box2"' in text
    assert "Host fix-1-dev.box2\n    HostName 127.0.0.1\n    Port 40001\n" in text
    assert text.count("ProxyJump symposium-jump.box2") == 2
    assert "HostKeyAlias fix-1-agent.box2" in text
    # ssh itself reads it: the dev entry resolves to the loopback port through the jump host.
    config = tmp_path / "ssh_config"
    config.write_text(text)
    resolved = subprocess.run(["ssh", "-G", "-F", str(config), "fix-1-dev.box2"], capture_output=True,
                              text=True, check=True).stdout
    assert "hostname 127.0.0.1" in resolved and "port 40001" in resolved
    assert "proxyjump symposium-jump.box2" in resolved


def test_local_entries_include_the_other_hosts(tmp_path):
    text = sshconfig.render({"a": {"dev_port": 1}}, Path("/k"), Path("/kh"), include="/c/ssh_config.d/*.conf")
    assert text.index("Include /c/ssh_config.d/*.conf") < text.index("Host a-dev")
    assert "ProxyJump" not in text
    main = tmp_path / "ssh_config"
    sshconfig.ensure_main(main, "/c/ssh_config.d/*.conf")
    assert "Include /c/ssh_config.d/*.conf" in main.read_text()
    main.write_text("kept\n")
    sshconfig.ensure_main(main, "/elsewhere/*.conf")  # never overwrites this machine's entries
    assert main.read_text() == "kept\n"


def test_forget_host_keys_is_per_host(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("t-dev ssh-ed25519 AAAA\nt-dev.box2 ssh-ed25519 BBBB\n")
    sshconfig.forget_host_keys(known, "t", "box2")
    assert known.read_text() == "t-dev ssh-ed25519 AAAA\n"


def test_each_host_keeps_its_own_state():
    paths = app_paths()
    box2 = paths.for_host("box2")
    assert box2.registry_file == paths.state_dir / "hosts" / "box2" / "taskspace-registry.json"
    assert box2.ssh_config == paths.config_dir / "ssh_config.d" / "box2.conf"
    assert box2.main_ssh_config == paths.ssh_config == paths.main_ssh_config
    assert box2.ssh_key == paths.ssh_key and box2.known_hosts == paths.known_hosts
    assert paths.for_host("local").registry_file == paths.registry_file


@pytest.mark.parametrize("argv", [["--connection", "box2", "ls"], ["ls", "--connection", "box2"],
                                  ["-c", "box2", "ls"], ["ls", "-c", "box2"]])
def test_connection_before_or_after_the_command(argv):
    assert build_parser().parse_args(argv).connection == "box2"


@pytest.mark.parametrize("command", [["ls"], ["health"], ["cleanup"]])
def test_all_connections_on_the_reporting_commands(command):
    assert build_parser().parse_args([*command, "--all-connections"]).all_connections
    assert build_parser().parse_args([*command, "-A"]).all_connections


@pytest.mark.parametrize("command", [["create", "x", "--repo", "."], ["rm", "x"], ["monitor"]])
def test_all_connections_only_where_it_reports(command, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--all-connections"])
    assert exited.value.code == 2


@pytest.mark.parametrize("url, name", [("unix:///run/podman/podman.sock", "local"),
                                       ("ssh://core@box2.example:22/run/podman/podman.sock", "box2.example"),
                                       ("tcp://10.0.0.7:8080", "10.0.0.7"), ("ssh://core@local/run/p.sock", "remote")])
def test_an_engine_given_by_url_is_named_by_its_host(url, name):
    from symposium_tui.backends.podman.connection import host_name_of

    assert host_name_of(url) == name
    assert candidate_targets(url, {})[0].name == name
    assert candidate_targets(None, {"CONTAINER_HOST": url})[0].name == name


def test_a_key_path_with_spaces_is_written_quoted_and_ssh_reads_it(tmp_path):
    jump = sshconfig.Jump("box2", "10.0.0.7", 22, "core", "/keys/my keys/box2")
    config = tmp_path / "ssh_config"
    config.write_text(sshconfig.render({"a": {"dev_port": 1}}, Path("/k"), Path("/kh"), host="box2", jump=jump))
    resolved = subprocess.run(["ssh", "-G", "-F", str(config), "symposium-jump.box2"], capture_output=True,
                              text=True, check=True).stdout
    assert "identityfile /keys/my keys/box2" in resolved
