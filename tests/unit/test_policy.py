import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symposium_tui.core.errors import ConfigError, UsageError
from symposium_tui.core.policy import SEED_POLICY, load_policy, parse_policy
from symposium_tui.core.units import format_cpu, format_size, parse_cpu, parse_size


def test_first_run_writes_the_seed_policy(tmp_path):
    path = tmp_path / "resource-policies.yaml"
    policy = load_policy(path)
    assert path.read_text() == SEED_POLICY
    assert set(policy.tiers) == {"default", "premium", "minimal"}
    assert policy.tiers["premium"].limits.memory == 8 * 2**30
    assert policy.tiers["minimal"].limits.cpu == 500


def test_project_override_wins_over_the_tier():
    policy = parse_policy(SEED_POLICY, "p")
    assert policy.resolve("minimal", "large-monorepo")[1].memory == 16 * 2**30
    assert policy.resolve("minimal", "other")[1].memory == 2**30
    assert policy.resolve(None, "other")[0] == "default"


def test_partial_override_with_its_own_tier():
    text = SEED_POLICY + '  "web":\n    tier: premium\n    cpu: "1.5"\n'
    name, limits = parse_policy(text, "p").resolve(None, "web")
    assert name == "premium" and limits.cpu == 1500 and limits.memory == 8 * 2**30


def test_unknown_tier_on_the_command_line_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown tier 'gold'; known tiers: default, minimal, premium"):
        parse_policy(SEED_POLICY, "p").resolve("gold", "x")


@pytest.mark.parametrize("text, line, words", [
    # wrong indentation: the tier lands at the top level
    ("taskspace_limits:\ndefault:\n  memory: 1Gi\n  cpu: 1\n  storage: 1Gi\n", 2, "default: expected one of"),
    # wrong indentation inside a tier: YAML itself breaks
    ("taskspace_limits:\n  small:\n    memory: 1Gi\n   cpu: 1\n", 4, "not valid YAML"),
    ("taskspace_limits:\n  small:\n    memory: lots\n    cpu: 1\n    storage: 1Gi\n", 3, "'lots'"),
    ("taskspace_limits:\n  small:\n    memory: 1Gi\n    cpu: -1\n    storage: 1Gi\n", 4, "taskspace_limits.small.cpu"),
    ("taskspace_limits:\n  small:\n    memory: 1Gi\n    cpu: 1\n", 2, "storage missing"),
    ("taskspace_limits:\n  small:\n    memory: 1Gi\n    cpu: 1\n    storage: 1Gi\n"
     "project_overrides:\n  web:\n    tier: gold\n", 8, "not 'gold'"),
    ("default_tier: gold\ntaskspace_limits:\n  small:\n    memory: 1Gi\n    cpu: 1\n    storage: 1Gi\n", 1,
     "not 'gold'"),
    ("taskspace_limits:\n  small:\n    memory: 1Gi\n    cpu: 1\n    storage: 1Gi\n    disk: 3\n", 6, "unknown key"),
])
def test_malformed_policies_name_the_line(text, line, words):
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "/etc/x/resource-policies.yaml")
    assert f"/etc/x/resource-policies.yaml:{line}:" in caught.value.message
    assert words in caught.value.message
    assert caught.value.exit_code == 2


def test_empty_and_missing_sections():
    with pytest.raises(ConfigError, match="empty"):
        parse_policy("", "p")
    with pytest.raises(ConfigError, match="taskspace_limits is missing"):
        parse_policy("project_overrides: {}\n", "p")


units = st.sampled_from(["", "K", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"])


@settings(max_examples=500)
@given(st.integers(1, 10**6), units)
def test_sizes_parse_to_their_value(number, unit):
    factor = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[unit]
    assert parse_size(f"{number}{unit}") == number * factor
    assert parse_size(format_size(number * factor)) == number * factor


@settings(max_examples=500)
@given(st.integers(10, 10**6))
def test_cpu_strings_round_trip(millis):
    assert parse_cpu(f"{millis}m") == millis
    assert parse_cpu(format_cpu(millis)) == millis
    assert parse_cpu(str(millis / 1000)) == millis


@settings(max_examples=500)
@given(st.text(max_size=12))
def test_any_text_is_a_size_or_a_clear_usage_error(text):
    try:
        assert parse_size(text) >= 1
    except UsageError as exc:
        assert "size" in exc.message
    try:
        assert parse_cpu(text) >= 10
    except UsageError as exc:
        assert "cpu" in exc.message.lower() or "millicores" in exc.message


@pytest.mark.parametrize("damage", [b"\x00\x01\x02\x03", b"taskspace_limits:\n\xff\xfe  small", b"\x1b[31m"])
def test_a_corrupt_policy_file_is_moved_aside_and_the_defaults_come_back(tmp_path, damage):
    path = tmp_path / "resource-policies.yaml"
    path.write_bytes(damage)
    notices: list[str] = []
    policy = load_policy(path, notices)
    assert set(policy.tiers) == {"default", "premium", "minimal"}
    assert path.read_text() == SEED_POLICY
    aside = list(tmp_path.glob("resource-policies.yaml.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damage
    assert len(notices) == 1 and "was corrupt (not text): moved aside to resource-policies.yaml.corrupt-" in notices[0]


def test_a_mistake_in_readable_text_is_an_error_and_the_file_stays(tmp_path):
    path = tmp_path / "resource-policies.yaml"
    text = "taskspace_limits:\n  small:\n    memory: 1Gi\n   cpu: 1\n"
    path.write_text(text)
    with pytest.raises(ConfigError, match="resource-policies.yaml:4: not valid YAML"):
        load_policy(path, [])
    assert path.read_text() == text and not list(tmp_path.glob("*.corrupt-*"))
