import pytest
from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.core.errors import UsageError
from symposium_tui.core.ids import ID_PATTERN, validate_id
from symposium_tui.core.repos import parse_repo, project_name
from symposium_tui.core.units import format_cpu, format_size, parse_cpu, parse_size


@pytest.mark.parametrize("good", ["a", "fix-login-2", "a-b-c", "0", "x" * 63, "9abc"])
def test_valid_ids(good):
    assert validate_id(good) == good


@pytest.mark.parametrize("bad, why", [
    ("", "required"), ("Upper", "upper-case"), ("-lead", "dash"), ("trail-", "dash"),
    ("x" * 64, "at most 63"), ("../x", "'.'"), ("a;rm -rf /", "';'"), ("a_b", "'_'"),
    ("аbc", "'а'"),  # Cyrillic a: a look-alike
])
def test_invalid_ids_say_why(bad, why):
    with pytest.raises(UsageError) as caught:
        validate_id(bad)
    assert why in caught.value.message
    assert caught.value.exit_code == 2


@given(st.text(max_size=80))
def test_id_validation_agrees_with_the_dns_label_pattern(text):
    try:
        validate_id(text)
        accepted = True
    except UsageError:
        accepted = False
    assert accepted == bool(ID_PATTERN.fullmatch(text))


@pytest.mark.parametrize("text, size", [("4Gi", 4 * 2**30), ("512Mi", 512 * 2**20), ("10G", 10**10),
                                        ("1.5Gi", 3 * 2**29), ("2048", 2048), ("1K", 1000), ("1Ki", 1024)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "abc", "512m", "-1Gi", "0", "1Xi", "Gi"])
def test_bad_sizes(bad):
    with pytest.raises(UsageError):
        parse_size(bad)


@pytest.mark.parametrize("text, millis", [("500m", 500), ("1.5", 1500), ("2", 2000), ("2000m", 2000)])
def test_cpus(text, millis):
    assert parse_cpu(text) == millis


@pytest.mark.parametrize("bad", ["", "fast", "0", "-1", "1.0005", "5m", "nan", "inf"])
def test_bad_cpus(bad):
    with pytest.raises(UsageError):
        parse_cpu(bad)


def test_formatting_round_trips():
    assert format_size(parse_size("4Gi")) == "4Gi"
    assert format_cpu(parse_cpu("1.5")) == "1.5" and format_cpu(2000) == "2"
    assert format_cpu(parse_cpu("500m")) == "0.5" and format_cpu(1250) == "1.25"


def test_each_amount_is_written_one_way_everywhere():
    """The user saw cpu 500m, cpu 0.5, 1G and 1Gi for the same things: CPUs are decimal CPUs,
    sizes binary units with their i, exact (limits) and rounded (use) alike."""
    from symposium_tui.core import display

    assert format_size(1536 * 2**20) == "1.5Gi" and display.size(1536 * 2**20) == "1.5Gi"
    assert format_size(2**30) == "1Gi" and display.size(2**30) == "1Gi"
    assert display.size(2_411_724) == "2.3Mi" and display.memory(2_411_724, 2**30) == "2.3Mi/1Gi"


def test_local_repo(tmp_path):
    (tmp_path / "My_Project.git").mkdir()
    (tmp_path / "My_Project.git" / "HEAD").write_text("ref: refs/heads/main\n")
    spec = parse_repo(str(tmp_path / "My_Project.git"))
    assert spec.kind == "path" and spec.project == "my-project"
    assert spec.base_volume.startswith("symposium-base-my-project-")
    assert parse_repo(f"file://{tmp_path}/My_Project.git").source == spec.source


@pytest.mark.parametrize("url, project", [
    ("https://github.com/org/widgets.git", "widgets"), ("git@github.com:org/widgets.git", "widgets"),
    ("ssh://git@host:2222/srv/app", "app"), ("git://host/x/y", "y"),
])
def test_url_repos(url, project):
    spec = parse_repo(url)
    assert spec.kind == "url" and spec.project == project and spec.needs_network


@pytest.mark.parametrize("bad", ["", "-x", "ext::sh -c evil", "fd::3", "ftp://host/repo", "https://",
                                 "/no/such/dir", "a b", "line\nbreak"])
def test_bad_repos(bad):
    with pytest.raises(UsageError):
        parse_repo(bad)


def test_same_repo_same_base_different_repo_different_base(tmp_path):
    assert parse_repo("https://h/a/app.git").base_volume == parse_repo("https://h/a/app.git").base_volume
    assert parse_repo("https://h/a/app.git").base_volume != parse_repo("https://h/b/app.git").base_volume


def test_project_name_never_empty():
    assert project_name("https://h/...") == "project"
