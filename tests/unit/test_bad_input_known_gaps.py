"""Bad input the property tests found handled wrongly at first (issue #11), each now fixed.

They were written as strict xfails (`gap`) stating the right behaviour, and lost the mark when
the fix landed. A new gap found later gets the `gap` mark with the fix it needs in its reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from symposium_tui.core import labels as L
from symposium_tui.core.config import load_settings
from symposium_tui.core.errors import ConfigError
from symposium_tui.core.models import (
    ContainerInfo,
    ContainerState,
    PodInfo,
    PortBinding,
)
from tests.unit.bad_input_support import (
    Cli,
    RecordingEngine,
    install_id_spies,
    invalid_ids_seen,
    make_cli,
    private_context,
)

GOOD_ID = "fix-login-2"
GOOD_REPO = "https://example.com/org/app.git"


def gap(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    return make_cli(monkeypatch, tmp_path_factory, capsys)


# -- the CLI -------------------------------------------------------------------------------------
@pytest.mark.parametrize("days", ["nan", "inf", "1e10"])
def test_inactive_days_that_are_not_a_finite_number_are_refused(cli, days):
    cli.refused(["cleanup", "--inactive-days", days], "--inactive-days")


@pytest.mark.parametrize("option, value", [("--memory", "lots"), ("--memory", "512m"), ("--cpu", "fast"),
                                           ("--cpu", "0"), ("--memory", "-1Gi"), ("--cpu", "1e999999")])
def test_adjust_refuses_bad_sizes_and_cpus_before_the_engine(cli, option, value):
    cli.refused(["adjust", GOOD_ID, f"{option}={value}"], option)


@pytest.mark.parametrize("argv", [["create", GOOD_ID, "--repo", GOOD_REPO, "--tier", "no-such-tier"],
                                  ["adjust", GOOD_ID, "--tier", "no-such-tier"]])
def test_an_unknown_tier_is_refused_before_the_engine(cli, argv):
    cli.refused(argv, "tier")


@pytest.mark.parametrize("argv", [["logs", GOOD_ID, "--tail=--"], ["monitor", "--interval=--"],
                                  ["cleanup", "--inactive-days=--"], ["--url=--", "ls"]])
def test_a_lone_double_dash_as_a_value_is_refused(cli, argv):
    cli.refused(argv)


def test_a_value_that_merely_ends_in_double_dash_is_judged_as_itself(cli):
    # Found by the property test: "--project-type==--" (value "=--") was called a lone "--".
    assert "'=--'" in cli.refused(["create", GOOD_ID, "--repo", GOOD_REPO, "--project-type==--"], "--project-type").err
    result = cli.refused(["create", GOOD_ID, "--repo", GOOD_REPO, "--security==--"], "invalid choice")
    assert "'=--'" in result.err


def test_unrecognized_arguments_are_shown_without_control_characters(cli):
    result = cli.refused(["ls", "--no-such-\x1b[2J\x1b[31mred"], "unrecognized arguments")
    assert "\x1b" not in result.err, repr(result.err)


@pytest.mark.parametrize("url", ["http://[x", "ssh://[::1/podman.sock", "tcp://[::1:5"])
def test_a_malformed_url_is_a_usage_error(cli, url):
    cli.refused(["--url", url, "ls"], "--url")


# -- config.yaml ---------------------------------------------------------------------------------
def _config(tmp_path: Path, text: str):
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path / "config.yaml", {})


@pytest.mark.parametrize("entry", ["pypi.org:١٤٤٣", "pypi.org:４４３"])
def test_allow_list_ports_are_ascii_digits(tmp_path, entry):
    try:
        settings = _config(tmp_path, f"security: {{restricted_allow: ['{entry}']}}\n")
    except ConfigError as exc:
        assert "restricted_allow" in exc.message
        return
    raise AssertionError(f"accepted: {settings.restricted_allow}")


# -- ids that come back from the engine ----------------------------------------------------------
def test_cleanup_never_removes_files_outside_the_state_dir(monkeypatch, tmp_path):
    from symposium_tui.core.services.cleanup import Cleanup

    pod = PodInfo("p1", "taskspace-x", "Exited", L.ours("pod", "../victim") | {L.SECURITY: "open"},
                  datetime.now(UTC) - timedelta(days=60))
    seen = install_id_spies(monkeypatch)
    ctx = private_context(monkeypatch, tmp_path, RecordingEngine(pods=[pod]))
    ctx.taskspace_dir("x").parent.mkdir(parents=True)  # there after the first create
    victim = ctx.taskspace_dir("x").parent.parent / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("not yours to remove\n")
    cleanup = Cleanup(ctx)
    cleanup.apply(cleanup.plan(timedelta(0), include_running=True, check_work=False), force=True)
    assert (victim / "keep.txt").exists(), "cleanup --apply removed a directory outside the state dir"
    assert invalid_ids_seen(seen) == []


def test_engine_labels_cannot_write_lines_into_the_ssh_config(monkeypatch, tmp_path):
    from symposium_tui.core.services.lifecycle import Lifecycle

    evil = "x\nHost *\n    ProxyCommand touch /tmp/symposium-pwned"
    pod = PodInfo("p2", "taskspace-y", "Running", L.ours("pod", evil), datetime.now(UTC))
    infra = ContainerInfo("i", "infra", "", ContainerState.RUNNING, L.ours("pod", evil), is_infra=True,
                          ports=(PortBinding(2222, "127.0.0.1", 40001), PortBinding(2223, "127.0.0.1", 40002)))
    ctx = private_context(monkeypatch, tmp_path, RecordingEngine(pods=[pod], containers=[infra]))
    Lifecycle(ctx).list()
    text = ctx.paths.ssh_config.read_text() if ctx.paths.ssh_config.exists() else ""
    assert "ProxyCommand" not in text and "Host *" not in text, text
