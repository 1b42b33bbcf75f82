"""Which toolchains a repository needs, their packages and build caches, their images' names
(issue #21). The images themselves: tests/engine/test_toolchains.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from symposium_tui.core import toolchains as T
from symposium_tui.core.config import ImageNames, load_settings
from symposium_tui.core.errors import ConfigError

PACKAGE = Path(__file__).resolve().parents[2] / "symposium_tui"


@pytest.mark.parametrize(("names", "types"), [
    (["Cargo.toml", "src", "README.md"], ("rust",)),
    (["package.json"], ("node",)),
    (["pyproject.toml"], ("python",)), (["setup.py"], ("python",)), (["requirements-dev.txt"], ("python",)),
    (["go.mod", "go.sum"], ("go",)),
    (["Cargo.toml", "pyproject.toml", "package.json"], ("rust", "node", "python")),
    (["README.md", "Cargo.toml.bak", "xpackage.json", "requirements"], ()),
])
def test_the_files_at_the_root_say_which_toolchains(names, types):
    assert T.detect(names) == types


def test_keys_choices_and_packages():
    assert T.key_of(("rust", "python")) == T.key_of(("python", "rust")) == "python+rust"
    assert T.key_of(()) == T.key_of(("none",)) == "none"
    assert T.types_of("python+rust+evil") == ("rust", "python")
    assert T.parse_choice("rust,python") == ("rust", "python") and T.parse_choice("none") == ()
    for bad in ("cobol", "", "rust+cobol"):
        with pytest.raises(ValueError):
            T.parse_choice(bad)
    assert T.packages_for(("rust", "go")) == ("rustc", "cargo", "gcc", "libc6-dev", "golang-go")


def test_ssh_sessions_get_the_same_build_cache_environment_as_the_containers():
    lines = (PACKAGE / "images" / "common" / "sshd_config").read_text().splitlines()
    setenv = next(line for line in lines if line.startswith("SetEnv "))
    assert dict(word.split("=", 1) for word in setenv.split()[1:]) == T.BUILD_ENV
    assert all(value.startswith(T.CACHE) for key, value in T.BUILD_ENV.items() if key != "GOFLAGS")
    assert {value.removeprefix(T.CACHE + "/") for key, value in T.BUILD_ENV.items() if key != "GOFLAGS"} \
        <= set(T.CACHE_DIRS)


def test_image_names_per_environment_and_from_config(tmp_path):
    assert ImageNames().for_key("none") == (ImageNames().agent, ImageNames().dev)
    assert ImageNames().for_key("python+rust") == ("localhost/symposium/agent-python-rust:latest",
                                                   "localhost/symposium/dev-python-rust:latest")
    path = tmp_path / "config.yaml"
    path.write_text("images:\n  toolchains:\n    rust+python:\n      agent: reg.example/agent-rp:1\n"
                    "      dev: reg.example/dev-rp:1\n")
    assert load_settings(path, environ={}).images.for_key("python+rust") == ("reg.example/agent-rp:1",
                                                                             "reg.example/dev-rp:1")
    path.write_text("images:\n  toolchains:\n    cobol:\n      agent: a\n      dev: d\n")
    with pytest.raises(ConfigError, match=r"config.yaml:3: images.toolchains.cobol: expected rust, node"):
        load_settings(path, environ={})
