"""A repository's own definition of its environment, read as hostile input (core/definition.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from symposium_tui.core import definition as D
from symposium_tui.core.errors import SymposiumError


def parse(doc, path=".devcontainer/devcontainer.json") -> D.Definition:
    return D.parse_devcontainer(json.dumps(doc).encode() if not isinstance(doc, (bytes, str)) else
                                (doc.encode() if isinstance(doc, str) else doc), path)


def test_comments_and_trailing_commas_are_allowed_but_not_inside_strings():
    text = '{\n // a comment\n "image": "debian:12", /* block */\n "containerEnv": {"URL": "http://x//y",},\n}'
    found = parse(text)
    assert found.image == "debian:12" and found.env == (("URL", "http://x//y"),)


def test_build_paths_are_relative_to_the_file_and_stay_inside_the_repository():
    found = parse({"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"V": "1"}, "target": "dev"}})
    assert (found.containerfile, found.context, found.args, found.target) == \
        (".devcontainer/Dockerfile", ".", (("V", "1"),), "dev")
    assert parse({"dockerFile": "../docker/dev.Dockerfile"}).containerfile == "docker/dev.Dockerfile"
    for bad in ("../../etc/passwd", "/etc/passwd", ""):
        with pytest.raises(SymposiumError, match="leaves the repository|relative path"):
            parse({"build": {"dockerfile": bad}})
    with pytest.raises(SymposiumError, match="leaves the repository"):
        parse({"build": {"dockerfile": "Dockerfile", "context": "../.."}})


def test_ignored_keys_are_named_and_what_is_used_is_kept():
    found = parse({"image": "x:1", "forwardPorts": [3000], "features": {}, "build": {"cacheFrom": "y"},
                   "remoteUser": "vscode", "postCreateCommand": ["make", "setup"]})
    assert "forwardPorts is ignored" in found.notes and "features is ignored" in found.notes
    assert "build.cacheFrom is ignored" in found.notes
    assert found.remote_user == "vscode" and found.post_create == (("make", "setup"),)
    assert parse({"image": "x:1", "postCreateCommand": "npm ci"}).post_create == ("npm ci",)
    several = parse({"image": "x:1", "postCreateCommand": {"a": "one", "b": ["two", "2"]}})
    assert several.post_create == ("one", ("two", "2"))
    assert parse({"image": "x:1", "remoteUser": "root"}).remote_user == ""


def test_env_from_a_repository_is_plain_and_never_reads_this_machine():
    found = parse({"image": "x:1", "containerEnv": {"A": "1", "B": "${localEnv:HOME}", "SYMPOSIUM_ROLE": "x",
                                                    "HOME": "/tmp"}})
    assert found.env == (("A", "1"),)
    assert any("B is left out" in note for note in found.notes)
    for bad in ({"bad name": "x"}, {"A": "line\nbreak"}, {"A": 'quo"te'}, {"A": "back\\slash"}, {"A": 1},
                {"A": "x" * 5000}):
        with pytest.raises(SymposiumError, match="containerEnv"):
            parse({"image": "x:1", "containerEnv": bad})


@pytest.mark.parametrize("doc, match", [
    ("[1, 2]", "top level must be an object"),
    ("{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    ({}, "neither image nor build.dockerfile"),
    ({"image": "bad image name"}, "image must be an image name"),
    ({"image": "x:1", "remoteUser": "a b"}, "remoteUser must be a user name"),
    ({"image": "x:1", "postCreateCommand": 5}, "postCreateCommand must be"),
    ({"image": "x:1", "postCreateCommand": ["a", 1]}, "postCreateCommand must be"),
    ({"build": "Dockerfile"}, "build must be an object"),
    ({"build": {"dockerfile": "D", "target": "a b"}}, "build.target"),
])
def test_bad_files_are_clear_errors(doc, match):
    with pytest.raises(SymposiumError, match=match):
        parse(doc)


def test_a_huge_file_is_refused_before_it_is_parsed():
    with pytest.raises(SymposiumError, match="larger than 256 KiB"):
        parse(b"{" + b" " * (D.MAX_FILE + 1) + b"}")


def test_which_files_are_tried_and_in_what_order():
    root = {"Dockerfile": "blob", "Containerfile": "blob", ".devcontainer": "tree", "src": "tree"}
    assert D.find(root) == ["Containerfile", "Dockerfile", ".devcontainer/devcontainer.json"]
    assert D.find({".devcontainer.json": "blob", "Containerfile": "tree"}) == [".devcontainer.json"]
    assert D.find({"docker": "tree", "Dockerfile": "blob"}, "docker/dev.Containerfile") == \
        ["docker/dev.Containerfile", "Dockerfile"]
    assert D.find({"Dockerfile": "blob"}, "docker/dev.Containerfile") == ["Dockerfile"]  # not in this one
    assert D.find({"README.md": "blob"}) == []


def test_what_a_containerfile_reads_decides_its_key():
    assert D.uses_context("FROM x\nCOPY a /a\n")
    assert D.uses_context("FROM x\nRUN --mount=type=bind,target=/src make\n")
    assert D.uses_context("FROM x\nADD \\\n  a /a\n")  # a continued line
    assert not D.uses_context("FROM x AS b\nRUN make\nFROM y\nCOPY --from=b /out /out\n# COPY a b\n")
    assert D.base_images("FROM a:1 AS build\nFROM build\nFROM --platform=x b:2\nFROM scratch\n") == ("a:1", "b:2")
    found = D.containerfile_definition("Containerfile")
    one = D.build_key(found, b"FROM x\n", "tree1")
    assert one == D.build_key(found, b"FROM x\n", "tree1")
    assert len({one, D.build_key(found, b"FROM y\n", "tree1"), D.build_key(found, b"FROM x\n", "tree2"),
                D.build_key(found, b"FROM x\n", "tree1", "x=sha256:1")}) == 4


@given(st.text(max_size=300))
def test_any_text_is_parsed_or_refused_with_a_clear_error(text):
    try:
        found = parse(text)
    except SymposiumError as exc:
        assert "the repository's .devcontainer/devcontainer.json" in exc.message
    else:
        assert found.image or found.containerfile
        assert all("\n" not in value for _, value in found.env)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)


@given(st.dictionaries(st.sampled_from(D.USED_KEYS + ("forwardPorts",)), _JSON | st.dictionaries(
    st.sampled_from(D.BUILD_KEYS + ("x",)), _JSON, max_size=4), max_size=6))
def test_any_shape_of_the_known_keys_is_parsed_or_refused_with_a_clear_error(doc):
    try:
        found = parse(doc)
    except SymposiumError as exc:
        assert exc.message.startswith("the repository's ")
    else:
        assert bool(found.image) != bool(found.containerfile)
        assert not found.containerfile.startswith(("/", "../"))
