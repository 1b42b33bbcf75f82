"""Bad argument vectors for the CLI, run in-process through its real entry point (issue #11).

Every vector must end with exit code 2, a short message on stderr naming what was wrong, no
traceback -- and nothing touched: the engine is CONTAINER_HOST, a socket that does not exist, so a
command that got as far as the engine would fail differently (exit 1, "unreachable"); the engine
connection is also counted, and the private XDG dirs are compared before and after.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symposium_tui.core.errors import UsageError
from symposium_tui.core.ids import is_valid_id
from symposium_tui.core.repos import parse_repo
from symposium_tui.core.units import parse_duration
from tests.unit.bad_input_support import MANY, NOWHERE, Cli, make_cli

GOOD_ID = "fix-login-2"
GOOD_REPO = "https://example.com/org/app.git"  # parsed without any network access
def _commands() -> set[str]:
    """Every command the parser has (a hand-written list missed attach, send and signals)."""
    import argparse

    from symposium_tui.cli.parser import build_parser

    return {name for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


COMMANDS = _commands()
assert {"create", "ls", "send", "signals", "attach"} <= COMMANDS


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    return make_cli(monkeypatch, tmp_path_factory, capsys)


def _refused_by(parse, text: str) -> bool:
    try:
        parse(text)
    except UsageError:
        return True
    return False


# Strings that come close to ids, options and values, and those far away: unicode, controls, huge.
NEAR = list("abcz09-_.:/\\;|&$` '\"\t~*?#=@,") + ["а", "ａ", "\u200d", "\u202e", "\x1b", "\n", "\x00", "İ",
                                                 "－", "１", "١", "\x85"]
junk = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(NEAR), max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=200, max_size=10_000),
)
# Without NUL: the operating system cannot pass one in argv. Without '--' alone: argparse (3.11)
# turns '--tail=--' into an empty list (test_bad_input_known_gaps.py).
argv_junk = junk.map(lambda text: text.replace("\x00", "")).filter(lambda text: text != "--")
bad_ids = argv_junk.filter(lambda text: not is_valid_id(text))

ID_TEMPLATES = [
    ["start", "--", "{id}"], ["stop", "--", "{id}"], ["restart", "--json", "--", "{id}"],
    ["rm", "--force", "--purge-state", "--", "{id}"], ["adjust", "--memory=2Gi", "--", "{id}"],
    ["security", "--", "{id}", "isolated"], ["export-kube", "-o", "{out}", "--", "{id}"],
    ["logs", "--tail=5", "--", "{id}"], ["create", "--repo", GOOD_REPO, "--json", "--", "{id}"],
    ["ssh-config", "--", "{id}"],
]


@MANY
@given(bad_ids, st.sampled_from(ID_TEMPLATES))
def test_bad_ids_are_refused_before_the_engine(cli, bad_id, template):
    out = cli.home / "exported.yaml"
    argv = [bad_id if part == "{id}" else str(out) if part == "{out}" else part for part in template]
    cli.refused(argv, "taskspace id")
    assert not out.exists()


@pytest.mark.parametrize("hostile", ["../x", "a;rm -rf /", "аbc", "ａｂｃ", "a\u200db", "x" * 300, "", "-rf",
                                     "a\nb", "/etc/passwd", "$(id)", "x" * 10_000, "\x1b[2Jx", "..", "A"])
@pytest.mark.parametrize("command", ["start", "rm", "export-kube", "create"])
def test_hostile_ids_are_refused_on_every_id_command(cli, command, hostile):
    extra = ["--repo", GOOD_REPO] if command == "create" else []
    result = cli.refused([command, *extra, "--", hostile], "taskspace id")
    assert len(result.err) < 1000  # a 10,000-character id is cut short in the message


bad_durations = argv_junk.filter(lambda text: _refused_by(parse_duration, text))


@MANY
@given(st.one_of(bad_durations, st.builds(lambda n, unit: f"{n}{unit}", st.integers(36501, 10**400),
                                           st.sampled_from(["d", "w"]))),
       st.booleans())
def test_bad_durations_are_refused(cli, duration, as_json):
    cli.refused(["cleanup", f"--inactive-for={duration}", *(["--json"] if as_json else [])], "--inactive-for")


bad_repos = argv_junk.filter(lambda text: _refused_by(parse_repo, text))
hostile_repos = st.sampled_from(["-oProxyCommand=x", "ssh://-oProxyCommand=x/y", "ext::sh -c x", "fd::3",
                                 "http://[::1/x", "file:///%00", "git@-x:y", "ftp://h/r", "~nosuchuser-x/r"])


@MANY
@given(st.one_of(bad_repos, hostile_repos))
def test_bad_repos_are_refused(cli, repo):
    cli.refused(["create", GOOD_ID, f"--repo={repo}"], "--repo")


CHOICES = [("create", [GOOD_ID, "--repo", GOOD_REPO, "--security={}"]),
           ("logs", [GOOD_ID, "--container={}"]), ("security", [GOOD_ID, "{}"])]
VALID_CHOICES = {"rust", "node", "python", "none", "isolated", "restricted", "open", "agent", "dev"}


@MANY
@given(argv_junk.filter(lambda text: text not in VALID_CHOICES and not text.startswith("-")),
       st.sampled_from(CHOICES))
def test_bad_levels_and_choices_are_refused(cli, value, choice):
    command, args = choice
    cli.refused([command, *[arg.format(value) if "{}" in arg else arg for arg in args]], "invalid choice")


def _not_toolchains(text: str) -> bool:
    from symposium_tui.core.toolchains import parse_choice

    try:
        parse_choice(text)
    except ValueError:
        return True
    return False


@MANY
@given(argv_junk.filter(lambda text: _not_toolchains(text) and not text.startswith("-")))
def test_bad_project_types_are_refused(cli, value):
    cli.refused(["create", GOOD_ID, "--repo", GOOD_REPO, f"--project-type={value}"], "--project-type")


def _not_a_number(text: str, kind: type) -> bool:
    try:
        kind(text)
    except ValueError:
        return True
    return False


@MANY
@given(st.one_of(
    st.builds(lambda text: ["logs", GOOD_ID, f"--tail={text}"], argv_junk.filter(lambda t: _not_a_number(t, int))),
    st.builds(lambda n: ["logs", GOOD_ID, f"--tail={n}"], st.integers(max_value=-1)),
    st.builds(lambda text: ["monitor", f"--interval={text}"], argv_junk.filter(lambda t: _not_a_number(t, float))),
    st.builds(lambda x: ["monitor", f"--interval={x!r}"],
              st.floats().filter(lambda x: not 0.2 <= x <= 3600)),
    st.builds(lambda text: ["cleanup", f"--inactive-days={text}"],
              argv_junk.filter(lambda t: _not_a_number(t, float))),
    st.builds(lambda x: ["cleanup", f"--inactive-days={x!r}"], st.floats(max_value=-1e-9, allow_infinity=False)),
    st.builds(lambda days: ["cleanup", "--inactive-days", days, "--inactive-for", "2h"],
              st.sampled_from(["1", "0", "7"])),
))
def test_bad_numbers_are_refused(cli, argv):
    cli.refused(argv)


@MANY
@given(st.sampled_from([["ls"], ["health"], ["cleanup"], ["gc-volumes"], ["start", GOOD_ID], ["images", "list"],
                        ["create", GOOD_ID, "--repo", GOOD_REPO], ["adjust", GOOD_ID, "--cpu", "2"], ["doctor"],
                        ["monitor"], ["ssh-config"]]),
       # no spaces: argparse takes '--x y' for a positional, which ssh-config would read as its id
       st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]), max_size=30),
       st.sampled_from(["--no-such-", "--zz", "-Z"]))
def test_unknown_options_are_refused(cli, argv, suffix, prefix):
    cli.refused([*argv, prefix + suffix], "unrecognized arguments")


@MANY
@given(argv_junk.filter(lambda text: text not in COMMANDS and not text.startswith("-") and text != ""))
def test_unknown_commands_are_refused(cli, command):
    cli.refused([command, GOOD_ID], "invalid choice")


@pytest.mark.parametrize("argv", [
    ["create", GOOD_ID], ["create", "--repo", GOOD_REPO], ["create"], ["create", GOOD_ID, "--repo"],
    ["security", GOOD_ID], ["security"], ["start"], ["stop"], ["restart"], ["rm"], ["adjust"], ["logs"],
    ["export-kube"], ["export-kube", GOOD_ID, "-o"], ["images"], ["images", "nope"], ["logs", GOOD_ID, "--tail"],
    ["cleanup", "--inactive-for"], ["monitor", "--interval"], ["--url"], ["ls", "extra"],
    ["attach", GOOD_ID, "other-id"], ["cleanup", "--inactive-for", "1h", "--inactive-days", "1"], ["exec"],
    ["stop", GOOD_ID, "Not_An_Id"], ["rm", GOOD_ID, GOOD_ID + "-"], ["ports"], ["forward", GOOD_ID],
    ["forward", GOOD_ID, "0"], ["forward", GOOD_ID, "80", "--local", "65536"], ["forward", GOOD_ID, "http"],
])
def test_missing_and_extra_arguments_are_refused(cli, argv):
    cli.refused(argv)


@pytest.mark.parametrize("url", ["foo", "unix://", "ftp://host/x", "ssh://", "tcp://:5", "\x1b[2J", "x" * 5000])
def test_bad_urls_are_refused_without_a_connection_attempt(cli, url):
    result = cli.run(["--url", url, "ls"])
    assert result.code == 2 and "--url" in result.err and "Traceback" not in result.err, result
    assert "unreachable" not in result.err


# -- the controls: the same commands with good input do reach for the engine -------------------
@MANY
@given(st.one_of(st.sampled_from(["a", "0", "x" * 63, "fix-login-2", "a-b"]),
                 st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=63)
                 .filter(is_valid_id)),
       st.sampled_from([["start"], ["stop"], ["rm", "--force"], ["logs", "--tail", "0"], ["security", "{}", "open"],
                        ["adjust", "--memory", "2Gi", "--cpu", "1.5"], ["create", "--repo", GOOD_REPO]]))
def test_good_ids_get_as_far_as_the_engine(cli, good_id, template):
    argv = [template[0], *[good_id if part == "{}" else part for part in template[1:]]]
    if "{}" not in template:
        argv.insert(1, good_id)
    result = cli.run(argv)
    assert result.code == 1 and "unreachable" in result.err, result
    assert result.connects == 1 and "Traceback" not in result.err


@pytest.mark.parametrize("argv", [["cleanup", "--inactive-for", "90m"], ["cleanup", "--inactive-for=0s"],
                                  ["cleanup", "--inactive-for", "3d", "--json"], ["cleanup", "--inactive-days", "0"],
                                  ["monitor", "--interval", "0.2"], ["ls"], ["health", "--json"]])
def test_good_values_get_as_far_as_the_engine(cli, argv):
    result = cli.run(argv)
    assert result.code == 1 and "unreachable" in result.err and result.connects == 1, result
    if "--json" in argv:
        assert json.loads(result.out)["exit_code"] == 1


def test_the_home_and_engine_are_the_private_ones(cli):
    from symposium_tui.core.paths import app_paths

    paths = app_paths()
    for path in (paths.config_dir, paths.state_dir, paths.data_dir, paths.cache_dir, paths.runtime_dir):
        assert path.is_relative_to(cli.home), path
    assert os.environ["CONTAINER_HOST"] == NOWHERE
