from pathlib import Path

import pytest

from symposium_tui.core.config import DEFAULT_DEV_IMAGE, ImageNames, load_settings
from symposium_tui.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path):
    settings = load_settings(tmp_path / "missing.yaml", environ={})
    assert settings.images == ImageNames()
    assert settings.images.dev == DEFAULT_DEV_IMAGE


def test_file_sets_only_what_it_names(tmp_path):
    path = write(tmp_path, "images:\n  dev: registry.example/sym/dev:2\n")
    settings = load_settings(path, environ={})
    assert settings.images.dev == "registry.example/sym/dev:2"
    assert settings.images.agent == ImageNames().agent


def test_environment_wins_over_file(tmp_path):
    path = write(tmp_path, "images:\n  agent: a:1\n")
    settings = load_settings(path, environ={"SYMPOSIUM_AGENT_IMAGE": "b:2"})
    assert settings.images.agent == "b:2"


@pytest.mark.parametrize("text, line, key", [
    ("images:\n  dev: 'has space'\n", 2, "images.dev"),
    ("images:\n  agent: ok:1\n  robot: x:1\n", 3, "images.robot"),
    ("colour: blue\n", 1, "colour"),
    ("images: [a, b]\n", 1, "images"),
])
def test_invalid_file_names_file_line_and_key(tmp_path, text, line, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert f"{path}:{line}" in message
    assert f"{key}: expected" in message
    assert caught.value.exit_code == 2


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "images:\n  dev: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: not valid YAML"):
        load_settings(path, environ={})


def test_bad_environment_value_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SYMPOSIUM_DEV_IMAGE"):
        load_settings(tmp_path / "none.yaml", environ={"SYMPOSIUM_DEV_IMAGE": "two words"})


def test_engine_network_backend_is_checked_with_its_line(tmp_path):
    from symposium_tui.core.config import load_settings
    from symposium_tui.core.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text("engine:\n  network_backend: cni\n")
    assert load_settings(path, {}).network_backend == "cni"
    assert load_settings(tmp_path / "none.yaml", {}).network_backend == ""
    path.write_text("images: {}\nengine:\n  network_backend: slirp\n")
    with pytest.raises(ConfigError, match=r"config.yaml:3.*netavark, cni"):
        load_settings(path, {})
    path.write_text("engine:\n  backend: cni\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(path, {})


def _laughs() -> str:
    lines, previous = [], '"lol"'
    for name in "abcdefgh":
        lines.append(f"{name}: &{name} [{', '.join([previous] * 9)}]")
        previous = f"*{name}"
    return "\n".join(lines) + "\nimages: *h\n"


BILLION_LAUGHS = _laughs()


@pytest.mark.parametrize("which", ["config.yaml", "resource-policies.yaml"])
def test_yaml_aliases_are_refused_before_anything_expands_them(tmp_path, which):
    """A 400-byte document of nested aliases expands to 9^8 strings; formatting the error
    used to take it whole."""
    import time

    from symposium_tui.core.policy import load_policy

    path = tmp_path / which
    path.write_text(BILLION_LAUGHS if which == "config.yaml" else
                    BILLION_LAUGHS.replace("images: *h", "taskspace_limits: *h"))
    assert len(path.read_text()) < 500
    started = time.monotonic()
    with pytest.raises(ConfigError, match=rf"{which}:\d+: not valid YAML \(aliases \(\*a\) are not allowed"):
        load_settings(path, {}) if which == "config.yaml" else load_policy(path, [])
    assert time.monotonic() - started < 1.0


def test_a_huge_value_is_quoted_short_in_messages():
    from symposium_tui.core.units import quoted

    nested: list = ["x"] * 9
    for _ in range(6):
        nested = [nested] * 9
    text = quoted(nested)
    assert len(text) <= 100
