"""The command set as a person meets it: help and usage errors."""

import re

import pytest

from tests.helpers import assert_clean_failure, run_cli

COMMANDS = ["doctor", "images", "create", "diff", "fetch", "ls", "start", "stop", "restart", "rm", "exec", "ports", "forward",
            "cp", "attach",
            "send",
            "signals", "adjust", "security", "health", "monitor", "logs", "cleanup", "gc-volumes", "ssh-config",
            "export-kube"]


def test_help_lists_all_twenty_six_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    listed = re.findall(r"^    ([a-z][a-z-]+)", result.stdout, flags=re.M)
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: symposium-tui " + command)


@pytest.mark.parametrize("command", ["export-kube", "security", "adjust", "rm"])
def test_a_bad_id_is_a_usage_error_before_any_engine_call(command):
    result = run_cli("--url", "unix:///nonexistent.sock", command, "Not_An_Id",
                     *(["open"] if command == "security" else []))
    assert_clean_failure(result, 2)
    assert "Not_An_Id" in result.stderr


def test_reporting_commands_take_json():
    for command in ["doctor", "ls", "health", "cleanup", "gc-volumes", "ssh-config", "create"]:
        assert "--json" in run_cli(command, "--help").stdout, command
    assert "--json" in run_cli("images", "list", "--help").stdout


def test_unknown_command_is_a_usage_error():
    result = run_cli("frobnicate")
    assert_clean_failure(result, 2)
    assert "invalid choice" in result.stderr


def test_images_without_action_is_a_usage_error():
    result = run_cli("images")
    assert_clean_failure(result, 2)
    assert "images build" in result.stderr


@pytest.mark.parametrize("url", ["foo", "unix://", "ftp://host/x"])
def test_bad_url_is_a_usage_error(url):
    result = run_cli("--url", url, "doctor")
    assert_clean_failure(result, 2)
    assert "--url" in result.stderr


def test_json_errors_are_json_too():
    import json

    result = run_cli("--url", "unix:///nowhere.sock", "cleanup", "--inactive-for", "soon", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["exit_code"] == 2


def test_version():
    from symposium_tui import __version__

    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
