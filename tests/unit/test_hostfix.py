import resource
import tomllib

from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.engine import toml_write
from symposium_tui.engine.hostfix import HostQuirks, deep_merge, fixes_for, merged_conf


def quirks(**changes) -> HostQuirks:
    base = dict(cgroups="unified", nofile_hard=resource.RLIM_INFINITY, nproc_hard=resource.RLIM_INFINITY,
                systemd_running=True, runc_path="/usr/sbin/runc", crun_path="/usr/bin/crun")
    base.update(changes)
    return HostQuirks(**base)


def test_a_modern_host_needs_no_fix():
    fix = fixes_for(quirks())
    assert fix.overrides == {}
    assert fix.problems == ()


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


@given(documents)
def test_toml_writer_round_trips(document):
    assert tomllib.loads(toml_write.dumps(document)) == document
