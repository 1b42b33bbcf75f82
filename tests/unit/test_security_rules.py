"""Security levels, pure parts: the allow-list syntax, the firewall plan, finding our own rules."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symposium_tui.core.config import load_settings
from symposium_tui.core.errors import ConfigError
from symposium_tui.core.security import (
    AllowRule,
    chain_name,
    firewall_plan,
    owned_jumps,
    parse_allow,
)


@pytest.mark.parametrize(("entry", "rule"), [
    ("10.0.0.0/8:443", AllowRule("10.0.0.0/8", 443, "tcp")),
    ("192.0.2.7", AllowRule("192.0.2.7", None, "tcp")),
    ("192.0.2.7/32:80", AllowRule("192.0.2.7", 80, "tcp")),
    ("10.1.2.3/16", AllowRule("10.1.0.0/16", None, "tcp")),
    ("10.0.0.2:53/udp", AllowRule("10.0.0.2", 53, "udp")),
    ("deb.debian.org:80", AllowRule("deb.debian.org", 80, "tcp")),
])
def test_allow_entries(entry, rule):
    assert parse_allow(entry) == rule
    assert parse_allow(rule.describe()) == rule


@pytest.mark.parametrize(("entry", "words"), [
    ("10.0.0.1:70000", "1-65535"), ("10.0.0.1:0", "1-65535"), ("10.0.0.1:http", "1-65535"),
    ("300.1.1.1", "not an IPv4"), ("10.0.0.0/33", "not an IPv4"), ("bad_name!", "not a host name"),
    ("", "not a text entry"), (None, "not a text entry"), (5, "not a text entry"),
])
def test_bad_allow_entries_say_what_is_wrong(entry, words):
    with pytest.raises(ValueError, match=words):
        parse_allow(entry)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_any_text_is_parsed_or_refused_with_a_message(text):
    try:
        rule = parse_allow(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert rule.proto in ("tcp", "udp") and (rule.port is None or 1 <= rule.port <= 65535)
    if not rule.is_name:
        ipaddress.IPv4Network(rule.host)  # a normalised address or CIDR


@settings(max_examples=500)
@given(st.ip_addresses(v=4), st.integers(0, 32), st.integers(1, 65535), st.sampled_from(["tcp", "udp"]))
def test_addresses_round_trip(address, prefix, port, proto):
    network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    rule = parse_allow(f"{address}/{prefix}:{port}/{proto}")
    assert ipaddress.IPv4Network(rule.host) == network and rule.port == port and rule.proto == proto


def test_isolated_plan_drops_everything_but_replies_and_forwarded_ssh():
    plan = firewall_plan("fix-1", "isolated", "sym0a1b2c3d")
    assert plan.chain == chain_name("fix-1") and len(plan.chain) <= 28
    assert plan.rules[0] == ("-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN")
    assert plan.rules[1] == ("-o", "sym0a1b2c3d", "-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN")
    assert plan.rules[-1] == ("-j", "DROP") and len(plan.rules) == 3
    assert {(j[0], j[2]) for j in plan.jumps} == {("INPUT", "-i"), ("FORWARD", "-i"), ("FORWARD", "-o"),
                                                 ("POSTROUTING", "-o")}
    script = plan.restore_script()
    assert script.startswith("*mangle\n") and script.endswith("COMMIT\n")
    assert '--comment "symposium-tui taskspace=fix-1"' in script


def test_restricted_plan_allows_only_the_list_before_the_drop():
    plan = firewall_plan("fix-1", "restricted", "sym0a1b2c3d", (("10.0.0.0/8", 443, "tcp"), ("10.0.0.2", None, "udp")))
    assert ("-i", "sym0a1b2c3d", "-d", "10.0.0.0/8", "-p", "tcp", "--dport", "443", "-j", "RETURN") in plan.rules
    assert ("-i", "sym0a1b2c3d", "-d", "10.0.0.2", "-p", "udp", "-j", "RETURN") in plan.rules
    assert plan.rules[-1] == ("-j", "DROP")
    with pytest.raises(ValueError):
        firewall_plan("fix-1", "open", "br0")


def test_chain_names_differ_by_taskspace():
    assert chain_name("a") != chain_name("b") and chain_name("a") == chain_name("a")


def test_only_our_rules_are_found():
    listing = "\n".join([
        "-P INPUT ACCEPT",
        "-N SYMPOSIUM-ABC",
        '-A INPUT -i symx -m comment --comment "symposium-tui taskspace=fix-1" -j SYMPOSIUM-ABC',
        '-A FORWARD -o symx -m comment --comment "symposium-tui taskspace=fix-10" -j SYMPOSIUM-DEF',
        '-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
        "-A INPUT -i eth0 -j ACCEPT",
    ])
    assert [chain for chain, _ in owned_jumps(listing, "fix-1")] == ["INPUT"]
    assert len(owned_jumps(listing)) == 2


def test_config_security_section(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("security:\n  default: isolated\n  restricted_allow:\n    - 10.0.0.0/8:443\n")
    loaded = load_settings(path, environ={})
    assert loaded.security_default == "isolated"
    assert loaded.restricted_allow == (AllowRule("10.0.0.0/8", 443, "tcp"),)
    for text, where in (("security:\n  default: closed\n", ":2: security.default"),
                        ("security:\n  restricted_allow:\n    - ok.example:80\n    - 1.2.3.4:99999\n",
                         ":4: security.restricted_allow[1]"),
                        ("security:\n  allow: []\n", ":2: security.allow"),
                        ("security: [1]\n", ":1: security")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(f"config.yaml{where}")):
            load_settings(path, environ={})


def test_without_root_the_firewall_levels_say_they_need_it(monkeypatch):
    from symposium_tui.backends.podman import firewall

    monkeypatch.setattr(firewall.os, "geteuid", lambda: 1000)
    assert "need root" in firewall.unavailable()
    monkeypatch.setattr(firewall.os, "geteuid", lambda: 0)
    monkeypatch.setattr(firewall.shutil, "which", lambda name: None)
    assert "iptables is not installed" in firewall.unavailable()


def test_fast_refusals_go_only_into_a_namespace_of_the_pods_own():
    """The pid comes from the engine: this machine's namespace (its filter table would be
    replaced) or a process of another container is refused."""
    import os

    from symposium_tui.backends.podman.firewall import own_container_namespace

    assert not own_container_namespace(os.getpid(), "a" * 64)  # our own namespace, not a container's
    assert not own_container_namespace(1, "a" * 64)
    assert not own_container_namespace(os.getpid(), "../../x")
    assert not own_container_namespace(999999999, "a" * 64)


def test_the_inside_rules_accept_loopback_replies_and_the_allow_list_then_refuse():
    from symposium_tui.core.security import firewall_plan

    plan = firewall_plan("t", "restricted", "sym0a1b2c3d", (("10.0.0.2", 53, "udp"),))
    script = plan.inside_script()
    lines = script.splitlines()
    assert lines[0] == "*filter" and lines[-1] == "COMMIT"
    assert "-A OUTPUT -o lo -j ACCEPT" in lines
    assert "-A OUTPUT -d 10.0.0.2 -p udp --dport 53 -j ACCEPT" in lines
    assert lines[-3:-1] == ["-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset",
                            "-A OUTPUT -j REJECT --reject-with icmp-port-unreachable"]
    isolated = firewall_plan("t", "isolated", "sym0a1b2c3d", (("10.0.0.2", 53, "udp"),)).inside_script()
    assert "10.0.0.2" not in isolated  # the allow-list is restricted's only


def test_a_bridge_name_the_product_did_not_choose_is_refused():
    """#22 item 5: the name comes from the engine; with a newline it would add lines of its own
    to the iptables-restore input."""
    from symposium_tui.core.security import firewall_plan

    for name in ("sym0a1b2c3d\n-A INPUT -j ACCEPT", "eth0", "sym0A1B2C3D", "sym0a1b2c3d0", ""):
        with pytest.raises(ValueError, match="not a name symposium-tui gave it"):
            firewall_plan("t", "isolated", name)
    assert firewall_plan("t", "isolated", "sym0a1b2c3d").restore_script().count("\n") > 5
