"""Bad input, generated (issue #11): ids, --repo, sizes, cpu, durations and the YAML files.

Each kind gets at least 500 generated cases: valid input parses to the right value (round trips where
there is one), anything else is refused with UsageError (ConfigError for a file: the same exit code 2,
and the message names the file) -- never a ValueError, TypeError, RecursionError... leaking out.
The CLI's argument vectors are in test_bad_input_cli.py.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.core.config import Settings, load_settings
from symposium_tui.core.errors import ConfigError, SymposiumError, UsageError
from symposium_tui.core.ids import (
    MAX_LENGTH,
    container_name,
    is_valid_id,
    pod_name,
    validate_id,
    volume_name,
)
from symposium_tui.core.policy import Limits, parse_policy
from symposium_tui.core.repos import MAX_LENGTH as MAX_REPO_LENGTH
from symposium_tui.core.repos import parse_repo
from symposium_tui.core.units import (
    MAX_CPU_MILLIS,
    MAX_DURATION_DAYS,
    MAX_SIZE,
    format_cpu,
    format_size,
    parse_cpu,
    parse_duration,
    parse_size,
)
from tests.unit.bad_input_support import MANY

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
# Anything validate_id accepts must be a DNS label (the documented rule), by a pattern written
# independently of the one in ids.py; always used with fullmatch, as `$` alone would also let a
# trailing newline through ('0\n').
DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
# Characters that come close to an id: separators, path and shell characters, look-alikes of a-z,
# 0-9 and '-' (Cyrillic, Greek, fullwidth, Kelvin sign, dotless i, minus signs, digits of other
# scripts), invisible ones (zero-width joiner, soft hyphen, bidi override) and controls.
NEAR_MISSES = list("abcxyz019-_.:/\\;|&$`'\" \t\n\r\x00\x1b~*?#%@!,=+") + [
    "а", "е", "о", "ѕ", "ο", "ａ", "ｚ", "０", "－", "\u2010", "\u2212", "\u212a", "ı", "İ", "ß",
    "\u200d", "\u200b", "\u00ad", "\u202e", "\ufeff", "١", "\u0301", "A", "Z", "\x85", "\u2028",
]
hostile_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(NEAR_MISSES), max_size=80),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=60, max_size=400),
)

FIXED_HOSTILE_IDS = [
    "", "../x", "..", ".", "/etc/passwd", "a/../../b", "a;rm -rf /", "$(reboot)", "`id`", "a b", "a|b",
    "аbc",  # Cyrillic а
    "ａｂｃ",  # fullwidth
    "a\u200db", "\u200dabc", "ab\u200b", "ab\u00ad", "\u202eabc", "x" * 300, "x" * 64, "-x", "x-", "--",
    "-", "a\n", "0\n", "a\nb", "\na", "a\r", "a\x00", "a\x1b[2J", "Abc", "\u212aelvin", "ı", "İstanbul", "a_b",
    "a.b", "a:b", "a@b", "~root", "*", "١٢٣", "０",
]


def _refused_clearly(exc: SymposiumError, *needles: str) -> None:
    """A message a person can read: one line, of sensible length, exit code 2."""
    assert exc.exit_code == 2
    assert exc.message and "\n" not in exc.message and "\r" not in exc.message, exc.message
    assert len(exc.message) < 700, exc.message
    for needle in needles:
        assert needle in exc.message, (needle, exc.message)


# -- taskspace ids -------------------------------------------------------------------------------
dns_labels = st.one_of(
    st.sampled_from(ALNUM),
    st.builds(lambda first, middle, last: first + middle + last, st.sampled_from(ALNUM),
              st.text(alphabet=ALNUM + "-", max_size=61), st.sampled_from(ALNUM)))


@MANY
@given(dns_labels)
def test_every_dns_label_is_a_valid_id_and_its_names_stay_plain(good):
    assert validate_id(good) == good and is_valid_id(good)
    for name in (pod_name(good), container_name(good, "dev"), volume_name(good, "agent-state")):
        assert re.fullmatch(r"[a-z0-9-]+", name), name


@MANY
@given(hostile_text)
def test_validate_id_accepts_only_dns_labels(text):
    try:
        accepted = validate_id(text)
    except UsageError as exc:
        _refused_clearly(exc)
        assert "taskspace id" in exc.message
        assert not is_valid_id(text)
        assert not (DNS_LABEL.fullmatch(text) and len(text) <= MAX_LENGTH)
    else:
        assert accepted == text
        assert DNS_LABEL.fullmatch(text) and len(text) <= MAX_LENGTH, repr(text)


@pytest.mark.parametrize("hostile", FIXED_HOSTILE_IDS, ids=range(len(FIXED_HOSTILE_IDS)))
def test_hostile_ids_are_refused_and_shown_safely(hostile):
    with pytest.raises(UsageError) as caught:
        validate_id(hostile)
    _refused_clearly(caught.value)
    # Shown, not acted on: no raw control or invisible character reaches the terminal.
    assert all(c.isprintable() for c in caught.value.message), repr(caught.value.message)
    assert not is_valid_id(hostile)


@pytest.mark.parametrize("hostile", ["аbc", "ａｂｃ", "a\u200db"])
def test_look_alikes_are_named_by_code_point(hostile):
    with pytest.raises(UsageError) as caught:
        validate_id(hostile)
    assert "U+" in caught.value.message


@pytest.mark.parametrize("not_text", [None, 5, b"abc", ["a"], 1.5])
def test_ids_that_are_not_text_are_refused(not_text):
    with pytest.raises(UsageError):
        validate_id(not_text)
    assert not is_valid_id(not_text)


# -- sizes ---------------------------------------------------------------------------------------
UNITS = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
SIZE_GRAMMAR = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*([KMGTP]i?|k)?[Bb]?\s*")


@MANY
@given(st.integers(min_value=1, max_value=MAX_SIZE))
def test_size_round_trips_through_its_text(size):
    assert parse_size(format_size(size)) == size
    assert parse_size(str(size)) == size
    assert parse_size(size) == size


@MANY
@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(sorted(UNITS)), st.sampled_from(["", "B", " "]))
def test_size_with_a_unit(number, unit, suffix):
    text = f"{number}{unit}{suffix}"
    expected = number * UNITS[unit]
    if 1 <= expected <= MAX_SIZE:
        assert parse_size(text, "--memory") == expected
    else:
        with pytest.raises(UsageError) as caught:
            parse_size(text, "--memory")
        _refused_clearly(caught.value, "--memory")


@MANY
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999),
       st.sampled_from(["Ki", "Mi", "Gi", "Ti", "K", "M", "G"]))
def test_size_with_a_fraction(whole, fraction, unit):
    text = f"{whole}.{fraction:03d}{unit}"
    expected = int(Decimal(f"{whole}.{fraction:03d}") * UNITS[unit])
    if expected >= 1:
        assert parse_size(text) == expected
    else:
        with pytest.raises(UsageError):
            parse_size(text)


@MANY
@given(st.one_of(hostile_text, st.from_regex(r"\s?-?[0-9]{1,30}(\.[0-9]{0,4})?\s?[a-zA-Z]{0,3}\s?", fullmatch=True)))
def test_size_text_is_a_size_or_a_usage_error(text):
    try:
        size = parse_size(text, "storage")
    except UsageError as exc:
        _refused_clearly(exc, "storage")
    else:
        assert 1 <= size <= MAX_SIZE
        assert SIZE_GRAMMAR.fullmatch(text), repr(text)  # ASCII digits only: no '١' or '５'


@MANY
@given(st.one_of(st.none(), st.booleans(), st.floats(), st.binary(max_size=8), st.lists(st.integers(), max_size=3),
                 st.integers(min_value=-(2**80), max_value=2**80), st.just(16**5000), st.just(-(16**5000)),
                 st.dates(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_size_of_any_other_type_is_a_usage_error(value):
    try:
        size = parse_size(value)
    except UsageError as exc:
        _refused_clearly(exc)
    else:
        assert isinstance(value, int) and not isinstance(value, bool) and size == value <= MAX_SIZE


def test_lower_case_m_in_a_size_says_it_means_milli():
    with pytest.raises(UsageError) as caught:
        parse_size("512m", "--memory")
    assert "milli" in caught.value.message


# -- cpu -----------------------------------------------------------------------------------------
CPU_GRAMMAR = re.compile(r"\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*m?\s*")


@MANY
@given(st.integers(min_value=10, max_value=MAX_CPU_MILLIS))
def test_cpu_round_trips_through_its_text(millis):
    assert parse_cpu(format_cpu(millis)) == millis
    assert parse_cpu(f"{millis}m") == millis
    cores = Decimal(millis) / 1000
    assert parse_cpu(f"{cores:f}") == millis  # 1.5, 0.25, 12
    if millis % 1000 == 0:
        assert parse_cpu(millis // 1000) == millis
    if float(cores) * 1000 == millis:
        assert parse_cpu(float(cores)) == millis


@MANY
@given(st.one_of(hostile_text, st.from_regex(r"\s?[-+]?[0-9.]{0,12}([eE][-+]?[0-9]{1,10})?\s?[mMkK_]?\s?",
                                              fullmatch=True),
                 st.text(alphabet=st.characters(whitelist_categories=["Nd"]), min_size=1, max_size=6)))
def test_cpu_text_is_millicores_or_a_usage_error(text):
    try:
        millis = parse_cpu(text, "--cpu")
    except UsageError as exc:
        _refused_clearly(exc, "--cpu")
    else:
        assert 10 <= millis <= MAX_CPU_MILLIS
        assert CPU_GRAMMAR.fullmatch(text), repr(text)  # no '1e3', 'NaN', '1_000' or other scripts' digits


@MANY
@given(st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70), st.none(), st.booleans(),
                 st.just(16**5000), st.lists(st.floats(), max_size=2)))
def test_cpu_of_any_other_type_is_millicores_or_a_usage_error(value):
    try:
        millis = parse_cpu(value)
    except UsageError as exc:
        _refused_clearly(exc)
    else:
        assert 10 <= millis <= MAX_CPU_MILLIS
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
        assert math.isfinite(value) and Decimal(repr(value)) * 1000 == millis


@pytest.mark.parametrize("look_alike", ["١٥٠٠m", "１.５", "1_000m", "1e3", "NaN", "Infinity", "-0", "0x10"])
def test_cpu_refuses_what_only_decimal_would_take(look_alike):
    with pytest.raises(UsageError):
        parse_cpu(look_alike)


def test_a_huge_cpu_exponent_is_a_usage_error_not_an_overflow():
    with pytest.raises(UsageError):
        parse_cpu("1e999999999")
    with pytest.raises(UsageError):
        parse_cpu("9" * 5000)


# -- durations (cleanup --inactive-for) ----------------------------------------------------------
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_GRAMMAR = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*[smhdw]\s*")


@MANY
@given(st.integers(min_value=0, max_value=10**8), st.sampled_from(sorted(SECONDS)), st.sampled_from(["", " "]))
def test_duration_with_a_unit(number, unit, space):
    text = f"{number}{space}{unit}"
    seconds = number * SECONDS[unit]
    if seconds <= MAX_DURATION_DAYS * 86400:
        assert parse_duration(text, "--inactive-for") == seconds
    else:
        with pytest.raises(UsageError) as caught:
            parse_duration(text, "--inactive-for")
        _refused_clearly(caught.value, "--inactive-for", "too long")


@MANY
@given(st.one_of(hostile_text, st.from_regex(r"\s?-?[0-9]{0,420}(\.[0-9]{1,3})?\s?[smhdwySMHD]{0,2}\s?", fullmatch=True)))
def test_duration_text_is_seconds_or_a_usage_error(text):
    try:
        seconds = parse_duration(text, "--inactive-for")
    except UsageError as exc:
        _refused_clearly(exc, "--inactive-for")
    else:
        assert DURATION_GRAMMAR.fullmatch(text), repr(text)
        assert 0 <= seconds <= MAX_DURATION_DAYS * 86400 and math.isfinite(seconds)
        # What `cleanup` does with it must work too: no OverflowError from timedelta or dates.
        threshold = timedelta(seconds=seconds)
        assert datetime.now(UTC) - threshold < datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize("text, seconds", [("90m", 5400), ("2h", 7200), ("3d", 259200), ("0s", 0),
                                           ("1w", 604800), ("1.5h", 5400)])
def test_documented_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", [None, 90, 1.5, ["2h"], "", "90", "-1h", "1y", "1e3s", "inf s", "nan h",
                                 "1" + "0" * 400 + "w", "٣d"])
def test_bad_durations(bad):
    with pytest.raises(UsageError) as caught:
        parse_duration(bad, "--inactive-for")
    _refused_clearly(caught.value, "--inactive-for")


# -- --repo --------------------------------------------------------------------------------------
host_names = st.builds(lambda first, middle, domain: first + middle.rstrip("-") + domain,
                       st.sampled_from(ALNUM), st.text(alphabet=ALNUM + "-", max_size=10),
                       st.sampled_from(["", ".com", ".example.org", ".internal", ".co.uk"]))
path_parts = st.lists(st.builds(str.__add__, st.sampled_from(ALNUM + "_ABCXYZ"),
                                st.text(alphabet=ALNUM + "ABCXYZ_.-", max_size=12)), min_size=1, max_size=3)


@MANY
@given(st.sampled_from(["https", "http", "ssh", "git"]),
       st.one_of(st.none(), st.sampled_from(["git", "me", "a1", "deploy"])), host_names, st.one_of(st.none(), st.integers(1, 65535)), path_parts, st.booleans())
def test_url_repos_parse(scheme, user, host, port, parts, dot_git):
    path = "/".join(parts) + (".git" if dot_git else "")
    url = f"{scheme}://{user + '@' if user else ''}{host}{f':{port}' if port else ''}/{path}"
    spec = parse_repo(url)
    assert (spec.kind, spec.source, spec.argument) == ("url", url, url) and spec.needs_network
    last = parts[-1][:-4] if parts[-1].endswith(".git") and not dot_git else parts[-1]
    expected = re.sub(r"[^a-z0-9-]+", "-", last.lower()).strip("-") or "project"
    assert spec.project == expected
    assert re.fullmatch(r"symposium-base-[a-z0-9-]+-[0-9a-f]{10}", spec.base_volume), spec.base_volume


@MANY
@given(st.builds(str.__add__, st.sampled_from("abcgitxyz"), st.text(alphabet=ALNUM + "_-", max_size=8)),
       host_names, path_parts)
def test_scp_like_repos_parse(user, host, parts):
    argument = f"{user}@{host}:{'/'.join(parts)}"
    spec = parse_repo(argument)
    assert spec.kind == "url" and spec.source == argument


@MANY
@given(st.one_of(hostile_text,
                 st.builds(lambda scheme, rest: scheme + rest,
                           st.sampled_from(["https://", "ssh://", "git://", "file://", "http://[", "ssh://-",
                                            "ext::", "fd::", "ftp://", "git@-", "-", "~", "file:///%00", "/",
                                            "./", "../", "ssh://-oProxyCommand=", "https://[::1"]),
                           hostile_text)))
def test_repo_argument_is_a_spec_or_a_usage_error(argument):
    try:
        spec = parse_repo(argument)
    except UsageError as exc:
        _refused_clearly(exc, "--repo")
        assert all(c.isprintable() for c in exc.message), repr(exc.message)
    else:
        # Whatever is accepted can be handed to git as one argument: no option, no control
        # character, no space, no transport helper, no host that ssh would read as an option.
        assert spec.kind in ("url", "path")
        assert not argument.startswith("-") and argument.strip() == argument
        assert all(c.isprintable() and not c.isspace() for c in argument)
        assert "::" not in argument.split("/", 1)[0]
        assert len(argument) <= MAX_REPO_LENGTH
        assert re.fullmatch(r"[a-z0-9-]+", spec.project), spec.project
        if spec.kind == "path":
            assert Path(spec.source).is_absolute() and Path(spec.source).is_dir()
        elif "://" in argument:
            parsed = urlparse(argument)
            assert parsed.hostname and not parsed.hostname.startswith("-"), argument
            assert not (parsed.username or "").startswith("-"), argument
        else:  # user@host:path
            assert not argument.split(":", 1)[0].rsplit("@", 1)[-1].startswith("-"), argument


HOSTILE_REPOS = [
    "-oProxyCommand=touch /tmp/x", "--upload-pack=touch /tmp/x", "ssh://-oProxyCommand=evil/x",
    "ssh://-evil@host/x", "git@-evil:x", "ext::sh -c evil", "fd::3", "http://[::1/x", "https://[abc/x",
    "file:///tmp/%00", "file:///nope/%0a", "~nosuchuser-symposium/repo", "host:" + "a" * 5000, "a" * 5000,
    "a\nb", "a\x00b", "\u202erepo", "ftp://host/repo", "https://", "https://host", "", " ", "/dev/null",
]


@pytest.mark.parametrize("hostile", HOSTILE_REPOS, ids=range(len(HOSTILE_REPOS)))
def test_hostile_repos_are_refused(hostile):
    with pytest.raises(UsageError) as caught:
        parse_repo(hostile)
    _refused_clearly(caught.value)


@MANY
@given(st.builds(str.__add__, st.sampled_from(ALNUM + "_ABC"), st.text(alphabet=ALNUM + "ABC_.-", max_size=20)),
       st.booleans())
def test_local_repos_parse_to_their_resolved_path(tmp_path_factory, name, as_file_url):
    base = tmp_path_factory.getbasetemp() / "repos"
    repo = base / name
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    spec = parse_repo(f"file://{repo}" if as_file_url else str(repo))
    assert spec.kind == "path" and spec.source == str(repo.resolve()) and not spec.needs_network
    assert re.fullmatch(r"[a-z0-9-]+", spec.project)


def test_a_directory_that_is_not_a_repository_is_refused(tmp_path):
    with pytest.raises(UsageError) as caught:
        parse_repo(str(tmp_path))
    assert "not a git repository" in caught.value.message
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError) as caught:
        parse_repo(str(tmp_path / "file"))
    assert "not a directory" in caught.value.message


# -- resource-policies.yaml ----------------------------------------------------------------------
size_texts = st.one_of(st.builds(format_size, st.integers(1, 2**45)),
                       st.builds(lambda n, u: f"{n}{u}", st.integers(1, 4096), st.sampled_from(["Mi", "Gi", "G", "M"])))
cpu_texts = st.one_of(st.builds(format_cpu, st.integers(10, 64000)), st.integers(1, 64),
                      st.sampled_from(["1.5", "0.5", "250m", 2.5]))
tier_names = st.one_of(st.sampled_from(["default", "premium", "minimal", "gpu", "large-monorepo", "web"]),
                       st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12))
tier_specs = st.fixed_dictionaries({"memory": size_texts, "cpu": cpu_texts, "storage": size_texts})


@st.composite
def policy_documents(draw):
    names = draw(st.lists(tier_names, min_size=1, max_size=4, unique=True))
    tiers = {name: draw(tier_specs) for name in names}
    doc = {"taskspace_limits": tiers}
    if draw(st.booleans()):
        doc["default_tier"] = draw(st.sampled_from(names))
    overrides = {}
    for project in draw(st.lists(tier_names, max_size=3, unique=True)):
        keys = draw(st.sets(st.sampled_from(["memory", "cpu", "storage", "tier"])))
        overrides[project] = {key: draw(st.sampled_from(names) if key == "tier" else
                                        cpu_texts if key == "cpu" else size_texts) for key in sorted(keys)}
    if overrides:
        doc["project_overrides"] = overrides
    return doc


def _limits(spec: dict) -> Limits:
    return Limits(parse_size(spec["memory"]), parse_cpu(spec["cpu"]), parse_size(spec["storage"]))


@MANY
@given(policy_documents())
def test_valid_policy_documents_parse_to_their_values(doc):
    policy = parse_policy(yaml.safe_dump(doc, sort_keys=False), "resource-policies.yaml")
    assert set(policy.tiers) == set(doc["taskspace_limits"])
    for name, spec in doc["taskspace_limits"].items():
        assert policy.tiers[name].limits == _limits(spec)
    assert policy.default_tier == doc.get("default_tier", "default" if "default" in policy.tiers
                                          else next(iter(doc["taskspace_limits"])))
    for project, spec in doc.get("project_overrides", {}).items():
        name, limits = policy.resolve(None, project)
        assert name == spec.get("tier", policy.default_tier)
        base = _limits(doc["taskspace_limits"][name])
        assert limits.memory == (parse_size(spec["memory"]) if "memory" in spec else base.memory)
        assert limits.cpu == (parse_cpu(spec["cpu"]) if "cpu" in spec else base.cpu)
        assert limits.storage == (parse_size(spec["storage"]) if "storage" in spec else base.storage)
    # Round trip: the parsed limits, written back in the product's own units, parse the same.
    for tier in policy.tiers.values():
        limits = tier.limits
        assert _limits({"memory": format_size(limits.memory), "cpu": format_cpu(limits.cpu),
                        "storage": format_size(limits.storage)}) == limits


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
              st.text(max_size=20), st.sampled_from(["1Gi", "500m", "lots", "-1Gi", "0", "1e3", "nan", ".inf"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=8)


def _mutate(doc: dict, path_choice: int, value: object) -> dict:
    """Put `value` at one place of the document (a key's value, or a new unknown key)."""
    places: list[tuple[dict, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                places.append((node, key))
                walk(child)
    walk(doc)
    node, key = places[path_choice % len(places)]
    if path_choice % 7 == 6:
        node["unexpected"] = value
    else:
        node[key] = value
    return doc


def _parses_or_says_where(text: str, source: str) -> None:
    try:
        parse_policy(text, source)
    except ConfigError as exc:
        assert exc.exit_code == 2
        assert exc.message.startswith(source), exc.message
        assert "\n" not in exc.message and len(exc.message) < 1500, exc.message


@MANY
@given(policy_documents(), st.integers(0, 1000), yaml_values)
def test_policy_documents_with_a_bad_value_say_where(doc, where, value):
    text = yaml.safe_dump(_mutate(doc, where, value), sort_keys=False, allow_unicode=True)
    _parses_or_says_where(text, "resource-policies.yaml")


HOSTILE_YAML = [
    "[" * 800, "{a: " * 800, "- " * 800 + "x", "a: &a [*a]", "!!python/object/apply:os.system ['true']",
    "a: !!binary AAAA", "\x00", "\ufeff\ufefftaskspace_limits: {}", "---\na: 1\n---\nb: 2\n", "\t- a",
    "taskspace_limits: {a: {memory: " + "9" * 5000 + ", cpu: 1, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 0x" + "f" * 5000 + ", cpu: 1, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: " + ":".join(["59"] * 3000) + ", cpu: 1, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 2024-13-45, cpu: 1, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: .nan, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1e999, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 99999999999Pi, cpu: 1, storage: 1Gi}}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\ndefault_tier: [a]",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\ndefault_tier: {a: 1}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\nproject_overrides: {p: {tier: [a]}}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\nproject_overrides: {p: {tier: {a: 1}}}",
    "taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\nproject_overrides: [1, 2]",
    "taskspace_limits: {? [a, b] : 1}", "? {a: 1}\n: 2", "taskspace_limits: {1: 2}", "taskspace_limits: 5",
    'taskspace_limits: {"a\\nb": {memory: 1Gi, cpu: 1, storage: 1Gi}}',
    'taskspace_limits: {" ": {memory: 1Gi, cpu: 1, storage: 1Gi}}',
    'taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi, "x\\n\\u202ey": 1}}',
    '"\\x1b[2J": 1',
]


@pytest.mark.parametrize("text", HOSTILE_YAML, ids=range(len(HOSTILE_YAML)))
def test_hostile_policy_files_are_config_errors(text):
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "resource-policies.yaml")
    assert caught.value.message.startswith("resource-policies.yaml")
    assert caught.value.exit_code == 2 and len(caught.value.message) < 1000
    assert all(c.isprintable() for c in caught.value.message), repr(caught.value.message)


def test_a_tier_name_that_is_not_text_is_named_in_the_error():
    with pytest.raises(ConfigError) as caught:
        parse_policy("taskspace_limits: {a: {memory: 1Gi, cpu: 1, storage: 1Gi}}\ndefault_tier: [a]\n", "p.yaml")
    assert caught.value.message == "p.yaml:2: default_tier: expected one of the tiers (a), not ['a']"


@MANY
@given(st.one_of(st.text(max_size=200), st.text(alphabet=st.sampled_from(list("{}[]:,-?!&*|>'\"#%@ \n\t\\ab1.")),
                                                 max_size=200)))
def test_any_text_as_a_policy_file_parses_or_is_a_config_error(text):
    _parses_or_says_where(text, "resource-policies.yaml")


# -- config.yaml ---------------------------------------------------------------------------------
image_names = st.builds(lambda registry, path, tag: f"{registry}/{path}:{tag}",
                        st.sampled_from(["localhost", "registry.example:5000", "quay.io"]),
                        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/._-", min_size=1, max_size=20),
                        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=6))


@st.composite
def config_documents(draw):
    doc: dict = {}
    if draw(st.booleans()):
        doc["images"] = draw(st.dictionaries(st.sampled_from(["agent", "dev", "base"]), image_names, max_size=3))
    if draw(st.booleans()):
        doc["debian_suite"] = draw(st.sampled_from(["bookworm", "trixie", "sid", "bullseye"])
                                   | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10))
    if draw(st.booleans()):
        doc["state_retention_days"] = draw(st.one_of(st.integers(0, 3650), st.floats(0, 3650)))
    if draw(st.booleans()):
        doc["security"] = {"default": draw(st.sampled_from(["isolated", "restricted", "open"])),
                           "restricted_allow": draw(st.lists(st.sampled_from(
                               ["10.0.0.0/8:443", "1.2.3.4", "pypi.org:443", "dns.example/udp", "host:53/udp"]),
                               max_size=3))}
    return doc


def _load(tmp_path_factory, text: str) -> Settings:
    path = tmp_path_factory.getbasetemp() / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {})


@MANY
@given(config_documents())
def test_valid_config_documents_parse_to_their_values(tmp_path_factory, doc):
    loaded = _load(tmp_path_factory, yaml.safe_dump(doc))
    default = Settings()
    for role in ("agent", "dev", "base"):
        assert getattr(loaded.images, role) == doc.get("images", {}).get(role, getattr(default.images, role))
    assert loaded.debian_suite == doc.get("debian_suite", default.debian_suite)
    assert loaded.state_retention_days == float(doc.get("state_retention_days", default.state_retention_days))
    assert loaded.security_default == doc.get("security", {}).get("default", default.security_default)
    assert len(loaded.restricted_allow) == len(doc.get("security", {}).get("restricted_allow", []))


config_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
              st.text(max_size=20), st.sampled_from(["open", "sid", "a b", "a\u0000b", "-1", "1.2.3.4:99999",
                                                     "host:0", "10.0.0.0/99", ":", "/udp"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=8)


@MANY
@given(config_documents().filter(bool), st.integers(0, 1000), config_values)
def test_config_documents_with_a_bad_value_say_where(tmp_path_factory, doc, where, value):
    text = yaml.safe_dump(_mutate(doc, where, value), allow_unicode=True)
    try:
        _load(tmp_path_factory, text)
    except ConfigError as exc:
        assert exc.exit_code == 2 and "config.yaml" in exc.message
        assert len(exc.message) < 1500, exc.message


HOSTILE_CONFIG = ["[" * 800, "images: " + "{a: " * 800, "state_retention_days: 2024-13-45",
                  "debian_suite: " + "9" * 5000, "security: {restricted_allow: [[[[]]]]}", "images: {agent: [a]}",
                  "security: {default: [a]}", "- a", "a: &x [*x]", "images: {agent: \"a\\nb\"}",
                  "security: {restricted_allow: [\"h:99999\"]}", "\"\\ud800\": 1"]


@pytest.mark.parametrize("text", HOSTILE_CONFIG, ids=range(len(HOSTILE_CONFIG)))
def test_hostile_config_files_are_config_errors(tmp_path_factory, text):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path_factory, text)
    assert "config.yaml" in caught.value.message


@MANY
@given(st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70), st.just(16**400),
                 st.sampled_from([".nan", ".inf", "-.inf", "30", "1e400", "true", "~"])))
def test_state_retention_days_is_a_finite_number_of_days(tmp_path_factory, value):
    text = f"state_retention_days: {value}\n" if isinstance(value, str) else yaml.safe_dump(
        {"state_retention_days": value})
    parsed = yaml.safe_load(text)["state_retention_days"]
    try:
        loaded = _load(tmp_path_factory, text)
    except ConfigError as exc:
        assert "state_retention_days" in exc.message and "\n" not in exc.message
        assert not (isinstance(parsed, (int, float)) and not isinstance(parsed, bool)
                    and 0 <= parsed <= MAX_DURATION_DAYS)
    else:
        assert 0 <= loaded.state_retention_days <= MAX_DURATION_DAYS  # so timedelta(days=...) works
        assert timedelta(days=loaded.state_retention_days) >= timedelta(0)


@pytest.mark.parametrize("text", ["debian_suite: bookwоrm\n", "debian_suite: sid²\n",
                                  'images: {agent: "localhost/a\\0b"}\n', 'images: {dev: "a\\x1bb"}\n',
                                  'images: {base: "a\\u202eb"}\n'])
def test_config_refuses_look_alike_suites_and_control_characters_in_image_names(tmp_path_factory, text):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path_factory, text)
    assert "debian_suite" in caught.value.message or "images." in caught.value.message
