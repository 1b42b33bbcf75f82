"""Malformed engine answers (issue #22, item 9): `ls` and `health` read them without a traceback,
one bad host does not end `ls -A` for the others, and what an engine labels is printed escaped.

The engine is the real adapter over a fake podman client (engine_answers_support.py): each answer
below is what a podman, or whoever runs one, could send.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from symposium_tui.backends.podman import normalize
from symposium_tui.backends.podman.normalize import container_from_list, container_state, parse_time, pod_from_list
from symposium_tui.cli import main
from symposium_tui.cli.output import note, say, table
from symposium_tui.core import labels as L
from symposium_tui.core.models import ContainerState
from tests.unit.engine_answers_support import container, pod, private_home, taskspace, use_hosts

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """main(argv) against fake hosts ({name: answers}); returns (exit code, stdout, stderr)."""
    private_home(monkeypatch, tmp_path)

    def run(argv: list[str], hosts: dict) -> tuple[int, str, str]:
        use_hosts(monkeypatch, hosts)
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _ls(run, answers: dict) -> dict:
    """`ls --json` of one host, and `health --json` there must not fail either."""
    code, out, err = run(["ls", "--json"], {"local": answers})
    assert code == 0, err
    health_code, _, health_err = run(["health", "--json"], {"local": answers})
    assert health_code in (0, 1) and "Traceback" not in health_err, health_err
    return {t["id"]: t for t in json.loads(out)["taskspaces"]}


def _with(**paths) -> dict:
    return taskspace() | paths


# -- the shapes the issue names ------------------------------------------------------------------
def test_a_host_port_that_is_not_a_number_is_no_port(run):
    infra = container(role="infra", Ports=[{"container_port": 2222, "host_port": "abc", "protocol": "tcp"},
                                           {"container_port": 2223, "host_port": "40001"}])
    listing = _ls(run, _with(**{"/containers/json": [infra, container(role="dev"), container(role="agent")]}))
    assert listing["t1"]["dev_port"] is None and listing["t1"]["agent_port"] == 40001
    assert listing["t1"]["status"] == "running"


def test_a_creation_time_of_1e20_is_no_time(run):
    answers = {"/pods/json": [pod(Created=1e20)],
               "/containers/json": [container(role=r, Created=1e20) for r in ("infra", "dev", "agent")]}
    listing = _ls(run, answers)
    assert listing["t1"]["created"] is None and listing["t1"]["status"] == "running"
    assert parse_time(1e20) is None and parse_time(float("nan")) is None and parse_time(True) is None
    assert parse_time(1700000000.5) == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)


def test_a_five_thousand_digit_label_is_left_out(run):
    labels = pod()["Labels"] | {L.STORAGE: FIVE_THOUSAND_DIGITS, L.MEMORY: FIVE_THOUSAND_DIGITS, L.CPU: "abc",
                                L.PROJECT: "p" * 5000}
    listing = _ls(run, _with(**{"/pods/json": [pod(Labels=labels)]}))
    assert listing["t1"]["status"] == "running"  # the pod kept, its unreadable labels not
    assert listing["t1"]["storage"] is None and listing["t1"]["project"] == ""
    kept = pod_from_list(pod(Labels=labels)).labels
    assert L.STORAGE not in kept and L.MEMORY not in kept and L.CPU not in kept and L.PROJECT not in kept
    assert kept[L.TIER] == "standard"


def test_a_state_that_is_a_list_is_an_unknown_state(run):
    answers = _with(**{"/containers/json": [container(role="infra"), container(role="dev", State=["running"]),
                                            container(role="agent")]})
    listing = _ls(run, answers)
    assert listing["t1"]["containers"]["dev"] == "unknown" and listing["t1"]["status"] == "degraded"
    assert container_state({"State": {"Status": {"x": 1}}}) is ContainerState.UNKNOWN


def test_pods_as_a_dict_are_no_pods(run):
    listing = _ls(run, _with(**{"/pods/json": {"Id": "pod-t1", "Name": "taskspace-t1"}}))
    assert listing["t1"]["status"] == "missing"  # its containers are there, its pod is not


def test_list_items_that_are_null_are_skipped(run):
    answers = {"/pods/json": [None, pod(), 5, "pod"], "/containers/json": [None, *taskspace()["/containers/json"]]}
    assert _ls(run, answers)["t1"]["status"] == "running"
    assert normalize.listed(pod_from_list, [None, [], pod()])[0].name == "taskspace-t1"


def test_labels_that_are_a_list_are_no_labels(run):
    answers = {"/pods/json": [pod(Labels=["io.symposium.owner=symposium-tui"])],
               "/containers/json": [container(role="dev", Labels=[["a", "b"]]), container(role="agent")]}
    listing = _ls(run, answers)
    assert set(listing) == {"t1"} and listing["t1"]["status"] == "missing"  # no pod of ours, one container
    assert "dev" not in listing["t1"]["containers"]


def test_an_object_without_its_id_or_name_is_skipped():
    assert container_from_list(container(Id=None)) is None
    assert container_from_list(container(Names=[5])) is None
    assert container_from_list(container(Id="x" * 5000)) is None
    assert pod_from_list(pod(Name={"a": 1})) is None
    assert pod_from_list(pod(Status=5)).status == ""  # a field that is not essential: left out
    assert pod_from_list(pod(Containers=[None, {"Id": 5}, {"Id": "c"}])).container_ids == ("c",)


def test_a_label_with_an_escape_sequence_is_printed_escaped(run):
    labels = pod()["Labels"] | {L.PROJECT: "app\x1b[2J\x1b]0;owned\x07", L.REPO: "r\rfake", L.TIER: "t\x9bx"}
    answers = _with(**{"/pods/json": [pod(Labels=labels)]})
    code, out, _ = run(["ls"], {"local": answers})
    assert code == 0
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\x9b" not in out
    assert "app\\x1b[2J\\x1b]0;owned\\x07" in out and "t\\x9bx" in out
    code, out, _ = run(["ls", "--json"], {"local": answers})  # JSON: as the engine has it, escaped by JSON
    assert json.loads(out)["taskspaces"][0]["project"] == "app\x1b[2J\x1b]0;owned\x07"


def test_plain_lines_and_tables_escape_control_characters(capsys):
    say("first line\nproject \x1b[31mred\x7f")
    note("error: \x1b[2Jgone")
    print(table([["a\x1bb", "x\ny"]], ["ID", "PROJECT"], width=None))
    out, err = capsys.readouterr()
    assert out.splitlines()[:2] == ["first line", "project \\x1b[31mred\\x7f"]
    assert err == "error: \\x1b[2Jgone\n"
    assert out.splitlines()[3] == "a\\x1bb  x\\ny"  # one row, its columns lined up with the escapes


# -- one host's answers do not end the command for the others ------------------------------------
MALFORMED = {
    "/pods/json": [None, pod("t2", Created=1e20, Labels=["x"]), pod("t2", Status=["up"])],
    "/containers/json": {"not": "a list"},
    "/system/df": [1, 2],
    "/containers/stats": {"Stats": [None, {"ContainerID": 5}]},
}


@pytest.mark.parametrize("argv", [["ls", "-A"], ["health", "-A"], ["ls", "-A", "--json"]])
def test_a_host_with_malformed_answers_lists_what_it_can_and_the_others_are_listed(run, argv):
    code, out, err = run(argv, {"local": taskspace("t1"), "box2": MALFORMED, "box3": taskspace("t3")})
    assert "Traceback" not in err and "t1" in out and "t3" in out, err
    assert "t2" in out and "box2" not in err  # its one readable pod is listed; it is no failed host
    assert code in (0, 1)


def test_a_host_whose_work_fails_unexpectedly_is_that_hosts_line(run):
    hosts = {"local": taskspace("t1"), "box2": {"/pods/json": KeyError("Id")}, "box3": taskspace("t3")}
    code, out, err = run(["ls", "-A"], hosts)
    assert code == 1
    rows = [line.split()[:2] for line in out.splitlines()[1:]]
    assert rows == [["local", "t1"], ["box3", "t3"]]
    assert "host box2: failed: KeyError: 'Id'" in err.splitlines()
    code, out, _ = run(["ls", "-A", "--json"], hosts)
    box2 = next(h for h in json.loads(out)["hosts"] if h["name"] == "box2")
    assert box2 == {"name": "box2", "reachable": True, "error": "KeyError: 'Id'", "where": box2["where"]}


def test_an_unexpected_failure_is_one_escaped_line(run):
    hosts = {"local": taskspace("t1"), "box2": {"/pods/json": ValueError("bad\n\x1b[2Janswer " + "x" * 900)}}
    code, out, err = run(["health", "-A"], hosts)
    line = next(line for line in err.splitlines() if line.startswith("host box2: failed: "))
    assert "\x1b" not in line and "bad \\x1b[2Janswer" in line and len(line) < 400
    assert "t1" in out


def test_what_containers_wrote_is_read_in_both_shapes_and_nonsense_is_left_out():
    from symposium_tui.backends.podman.normalize import written_sizes

    found = written_sizes([{"Names": ["a"], "Size": {"rwSize": 12, "rootFsSize": 99}, "Labels": {"k": "v"}},
                           {"Names": ["/b"], "SizeRw": "34"}, {"Names": ["c"], "Size": {"rwSize": -1}},
                           {"Names": ["d"], "SizeRw": 1e30}, {"Size": {"rwSize": 5}}, None, "x"])
    assert found == {"a": ({"k": "v"}, 12), "b": ({}, 34)}
    assert written_sizes({"Names": ["a"]}) == {}


def test_a_containers_layer_path_is_taken_only_when_it_is_a_plain_absolute_path():
    from symposium_tui.backends.podman.normalize import upper_dir_of

    def inspected(upper: object) -> dict:
        return {"GraphDriver": {"Name": "overlay", "Data": {"UpperDir": upper}}}
    assert upper_dir_of(inspected("/var/lib/containers/storage/overlay/abc/diff")) == \
        "/var/lib/containers/storage/overlay/abc/diff"
    for bad in ("relative/diff", "/x/../../etc", "/x/..", "/x\0y", 5, None, ["/x"]):
        assert upper_dir_of(inspected(bad)) == "", bad
    assert upper_dir_of({"GraphDriver": []}) == upper_dir_of(None) == upper_dir_of("x") == ""
