import resource
import tomllib

from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.backends.podman.hostfix import HostQuirks, deep_merge, fixes_for, merged_conf


def quirks(**changes) -> HostQuirks:
    base = dict(cgroups="unified", nofile_hard=resource.RLIM_INFINITY, nproc_hard=resource.RLIM_INFINITY,
                systemd_running=True, runc_path="/usr/sbin/runc", crun_path="/usr/bin/crun")
    base.update(changes)
    return HostQuirks(**base)


def test_a_modern_host_needs_no_fix_but_the_network_backend_is_always_named():
    fix = fixes_for(quirks())
    assert fix.overrides == {"network": {"network_backend": "netavark"}}
    assert fix.problems == ()


def test_the_network_backend_is_chosen_not_left_to_what_is_installed():
    assert fixes_for(quirks(), "cni").overrides["network"] == {"network_backend": "cni"}
    only_cni = fixes_for(quirks(backends=("cni",)))
    assert any("apt-get install netavark" in p and "network_backend: cni" in p for p in only_cni.problems)
    only_netavark = fixes_for(quirks(backends=("netavark",)), "cni")
    assert any("apt-get install containernetworking-plugins" in p for p in only_netavark.problems)


def test_hybrid_cgroups_switch_to_runc():
    fix = fixes_for(quirks(cgroups="hybrid"))
    assert fix.overrides["engine"]["runtime"] == "runc"
    assert any("crun" in r for r in fix.reasons)


def test_hybrid_cgroups_without_runc_is_a_problem_not_a_fix():
    fix = fixes_for(quirks(cgroups="hybrid", runc_path=None))
    assert "runtime" not in fix.overrides.get("engine", {})
    assert any("apt-get install runc" in p for p in fix.problems)


def test_low_open_files_limit_lowers_default_ulimits():
    fix = fixes_for(quirks(nofile_hard=20000, nproc_hard=96365))
    assert fix.overrides["containers"]["default_ulimits"] == ["nofile=16384:16384", "nproc=16384:16384"]


def test_ulimits_never_exceed_the_hard_limits():
    fix = fixes_for(quirks(nofile_hard=4096, nproc_hard=1000))
    assert fix.overrides["containers"]["default_ulimits"] == ["nofile=4096:4096", "nproc=1000:1000"]


def test_no_systemd_uses_cgroupfs():
    fix = fixes_for(quirks(systemd_running=False))
    assert fix.overrides["engine"]["cgroup_manager"] == "cgroupfs"


def test_merge_keeps_the_persons_settings_and_ours_win(tmp_path):
    system = tmp_path / "containers.conf"
    system.write_text('[containers]\ntz = "UTC"\n[engine]\nruntime = "crun"\n')
    text = merged_conf([system], {"engine": {"runtime": "runc"}})
    parsed = tomllib.loads(text)
    assert parsed["containers"]["tz"] == "UTC"
    assert parsed["engine"]["runtime"] == "runc"


def test_deep_merge_is_recursive():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
scalars = st.one_of(st.booleans(), st.integers(-10**9, 10**9), text)
values = st.one_of(scalars, st.lists(text, max_size=3))
documents = st.recursive(st.dictionaries(keys, values, max_size=3),
                         lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=3),
                         max_leaves=6)


@given(document=documents)
def test_merged_conf_round_trips_what_the_host_files_say(tmp_path_factory, document):
    conf = tmp_path_factory.mktemp("conf") / "containers.conf"
    conf.write_text(merged_conf([], document))
    assert merged_conf([conf], {}) == merged_conf([], document)
    assert tomllib.loads(conf.read_text()) == document


def test_the_embedded_service_keeps_the_backend_its_store_already_uses(tmp_path):
    from symposium_tui.backends.podman.hostfix import choose_backend

    storage = tmp_path / "storage.conf"
    storage.write_text(f'[storage]\ngraphroot = "{tmp_path}/root"\n')
    environ = {"CONTAINERS_STORAGE_CONF": str(storage)}
    assert choose_backend("", environ) == ("netavark", "the default")  # a new store
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "defaultNetworkBackend").write_text("cni")
    assert choose_backend("", environ) == ("cni", "the one its store already uses")
    assert choose_backend("netavark", environ)[0] == "netavark"  # config.yaml wins
    (tmp_path / "root" / "defaultNetworkBackend").write_text("something else\n")
    assert choose_backend("", environ)[0] == "netavark"
