"""Engine answers, generated (issue #22, item 9): whatever JSON an engine sends, in place of one
field or of the whole answer, normalize gives a sound model or skips the object, and the adapter
built on it raises nothing but the product's own errors. What the CLI prints of it is escaped.

Each property runs the bad-input profile with 200 cases (SOME: MANY's settings, fewer cases: there are
32 of them and the suite has a time budget).
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symposium_tui.backends.podman import normalize as N
from symposium_tui.cli import main
from symposium_tui.cli.output import table
from symposium_tui.core import labels as L
from symposium_tui.core.display import one_line, printable
from symposium_tui.core.errors import SymposiumError
from symposium_tui.core.models import ContainerInfo, ContainerStats, EngineEvent, ImageInfo, NetworkInfo, \
    PodInfo, VolumeInfo
from tests.unit.bad_input_support import MANY

SOME = settings(MANY, max_examples=200)
from tests.unit.engine_answers_support import container, engine, pod, private_home, taskspace, use_hosts

# Any JSON value, and the Python values a JSON parser never makes but a careless one might pass on
# (huge ints, NaN): st.recursive over null, booleans, numbers, text, lists and objects.
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.builds(pow, st.just(16), st.just(5000)), st.floats(), st.just(1e20), st.text(max_size=12),
                    st.sampled_from(["", "0", "-1", "abc", "40000", "9" * 5000, "\x1b[2J", "running", "1e20",
                                     "2026-11-28T05:30:00.123456789Z", "0001-01-01T00:00:00Z", "٣", "²"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=10)

VOLUME = {"Name": "t1-project", "Mountpoint": "/var/lib/x", "CreatedAt": "2024-01-01T00:00:00Z",
          "Labels": {L.OWNER: L.OWNER_VALUE, L.TASKSPACE: "t1", L.ROLE: "project"},
          "Options": {"o": "loop", "device": "/x.img"}}
NETWORK = {"name": "t1-net", "network_interface": "sym0a1b2c3d", "subnets": [{"subnet": "10.89.0.0/24"}],
           "labels": {L.OWNER: L.OWNER_VALUE}, "internal": False}
INSPECTED = {"Id": "c1", "Name": "/t1-dev", "ImageName": "img", "Pod": "p1", "IsInfra": False,
             "Created": "2024-01-01T00:00:00Z", "State": {"Status": "running", "ExitCode": 0, "Pid": 5,
                                                          "StartedAt": "2024-01-01T00:00:01Z"},
             "Config": {"Labels": {L.ROLE: "dev"}, "Image": "img"}, "HostConfig": {"CpuQuota": 150000,
                                                                                   "CpuPeriod": 100000}}
STATS = {"ContainerID": "c1", "Name": "t1-dev", "CPUNano": 5, "SystemNano": 9, "MemUsage": 1, "MemLimit": 2,
         "NetInput": 3, "NetOutput": 4, "PIDs": 6, "AvgCPU": 1.5}
EVENT = {"Type": "container", "Action": "died", "timeNano": 1700000000123456789,
         "Actor": {"ID": "c1", "Attributes": {L.OWNER: L.OWNER_VALUE, L.ROLE: "dev", L.TASKSPACE: "t1",
                                              "name": "t1-dev", "containerExitCode": "137"}}}
IMAGE = {"Id": "sha256:1", "RepoTags": ["localhost/x:1"], "Size": 5, "Created": 1700000000,
         "Labels": {L.IMAGE_ROLE: "dev"}}
# (function, a well-formed answer, its essential fields: without them the object is skipped)
READERS = [
    (N.container_from_list, container(role="infra"), {"Id", "Names"}),
    (N.container_from_inspect, INSPECTED, {"Id", "Name"}),
    (N.pod_from_list, pod(), {"Id", "Name"}),
    (N.pod_from_inspect, pod(State="Running"), {"Id", "Name"}),
    (N.volume_from, VOLUME, {"Name"}),
    (N.network_from, NETWORK, {"name"}),
    (N.stats_from, STATS, {"ContainerID"}),
    (N.event_from, EVENT, {"Type", "Actor"}),
    (N.image_from, IMAGE, {"Id"}),
]
MODELS = (ContainerInfo, PodInfo, VolumeInfo, NetworkInfo, ContainerStats, EngineEvent, ImageInfo)
IDS = [reader.__name__ for reader, _, _ in READERS]


def _sound(value: object, where: str = "") -> None:
    """Every part of a model is of a plain type, bounded: what core and the CLI can rely on."""
    if is_dataclass(value):
        for f in fields(value):
            _sound(getattr(value, f.name), f"{where}.{f.name}")
        if isinstance(value, (ContainerInfo, PodInfo)):
            assert value.id and value.name and len(value.id) <= N.MAX_NAME, where
        for port in getattr(value, "ports", ()):
            assert 1 <= port.container_port <= 65535 and 0 <= port.host_port <= 65535, port
    elif isinstance(value, dict):
        for key, text in value.items():
            assert isinstance(key, str) and isinstance(text, str), (where, key, text)
            assert len(key) <= N.MAX_LABEL_KEY and len(text) <= N.MAX_LABEL_VALUE, where
            if key in N.NUMERIC_LABELS:  # core reads these with int(): they must be plain numbers
                assert text.isascii() and text.isdigit() and len(text) <= 19, (key, text)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _sound(item, where)
    elif isinstance(value, datetime):
        assert value.tzinfo is not None, where
    elif isinstance(value, float):
        assert math.isfinite(value), where
    elif isinstance(value, int) and not isinstance(value, bool):
        assert -(2**63) <= value < 2**63, (where, value)
    else:
        assert value is None or isinstance(value, (str, bool, Enum)), (where, type(value))
        assert not isinstance(value, str) or len(value) <= N.MAX_TEXT, where


def _read(reader, answer):  # noqa: ANN001, ANN202
    try:
        model = reader(answer)
    except SymposiumError:
        return None  # the product's own error is a fine answer to nonsense
    assert model is None or isinstance(model, MODELS), model
    _sound(model)
    return model


@pytest.mark.parametrize("reader, good, essential", READERS, ids=IDS)
def test_a_well_formed_answer_is_read(reader, good, essential):
    assert _read(reader, good) is not None


@pytest.mark.parametrize("reader, good, essential", READERS, ids=IDS)
@SOME
@given(answer=json_values)
def test_any_answer_is_a_sound_model_or_skipped(reader, good, essential, answer):
    _read(reader, answer)


@pytest.mark.parametrize("reader, good, essential", READERS, ids=IDS)
@SOME
@given(data=st.data(), value=json_values)
def test_any_value_in_one_field_leaves_the_object_or_skips_it_for_an_essential_one(reader, good, essential,
                                                                                   data, value):
    path = data.draw(st.sampled_from(_paths(good)))
    answer = _replaced(good, path, value)
    model = _read(reader, answer)
    if path[0] not in essential and not (reader is N.event_from and path[:2] == ("Actor", "Attributes")):
        assert model is not None, path  # a field that is not essential never costs the object


@SOME
@given(answer=json_values, name=st.sampled_from(["pods", "containers", "volumes", "networks", "stats",
                                                 "volume_sizes", "info", "version", "written"]))
def test_the_adapter_raises_only_its_own_errors_whatever_a_list_answer_is(answer, name):
    path = {"pods": "/pods/json", "containers": "/containers/json", "written": "/containers/json",
            "volumes": "/volumes/json",
            "networks": "/networks/json", "stats": "/containers/stats", "volume_sizes": "/system/df"}.get(name, "")
    fake = engine({path: answer} if path else {})
    if name in ("info", "version"):
        fake.client.info = fake.client.version = lambda: answer
    try:
        result = getattr(fake, name)()
    except SymposiumError:
        return
    _sound(result if not isinstance(result, dict) else list(result.items()))


@SOME
@given(answer=json_values, name=st.sampled_from(["pod", "container", "volume", "network", "image", "pod_ports",
                                                 "pod_limits"]))
def test_the_adapter_raises_only_its_own_errors_whatever_an_inspect_answer_is(answer, name):
    path = {"pod": "/pods/x/json", "pod_ports": "/pods/x/json", "pod_limits": "/pods/x/json",
            "container": "/containers/x/json", "volume": "/volumes/x/json", "network": "/networks/x/json",
            "image": "/images/x/json"}[name]
    try:
        result = getattr(engine({path: answer}), name)("x")
    except SymposiumError:
        return
    if name == "pod_ports":
        assert all(1 <= k <= 65535 and 1 <= v <= 65535 for k, v in result.items()), result
    elif name == "pod_limits":
        assert result[0] is None and (result[1] is None or 0 <= result[1] < 2**63)
    else:
        _sound(result)


@SOME
@given(value=st.one_of(json_values, st.floats(), st.integers()))
def test_any_time_is_an_aware_datetime_or_none(value):
    when = N.parse_time(value)
    assert when is None or (isinstance(when, datetime) and when.tzinfo is not None)


@SOME
@given(text=st.text())
def test_what_is_printed_of_any_text_is_printable(text):
    shown = printable(text)
    assert shown.isprintable() and (shown == text) == text.isprintable()
    line = one_line(text)
    assert line.isprintable() and len(line) <= 300
    assert N.readable(text).isprintable() and len(N.readable(text)) <= N.MAX_MESSAGE
    rendered = table([[text, "x"]], ["A", "B"], width=None)
    assert all(c.isprintable() for c in rendered.replace("\n", "")) and rendered.count("\n") == 1


@pytest.fixture
def ls(monkeypatch, tmp_path_factory, capsys):
    private_home(monkeypatch, tmp_path_factory.mktemp("answers-home"))

    def ls(answers: dict) -> tuple[int, str, str]:
        use_hosts(monkeypatch, {"local": answers})
        capsys.readouterr()
        code = main(["ls"])
        out, err = capsys.readouterr()
        return code, out, err
    return ls


@SOME
@given(data=st.data(), value=json_values)
def test_ls_lists_whatever_the_engine_answers_and_prints_it_escaped(ls, data, value):
    answers = taskspace()
    kind = data.draw(st.sampled_from(["/pods/json", "/containers/json"]))
    if data.draw(st.booleans()):
        answers[kind] = value  # the whole answer
    else:
        item = data.draw(st.sampled_from(range(len(answers[kind]))))
        answers[kind][item] = _replaced(answers[kind][item], data.draw(st.sampled_from(_paths(answers[kind][item]))),
                                        value)
    code, out, err = ls(answers)
    assert code == 0, err
    assert all(c.isprintable() for c in out.replace("\n", "")), out


def _paths(answer: dict | list, prefix: tuple = ()) -> list[tuple]:
    """Every field of an answer, those of nested objects and of objects in lists included."""
    paths = []
    for key, value in (answer.items() if isinstance(answer, dict) else enumerate(answer)):
        paths.append((*prefix, key))
        if isinstance(value, (dict, list)):
            paths += _paths(value, (*prefix, key))
    return paths


def _replaced(answer: dict | list, path: tuple, value: object) -> dict | list:
    copy = dict(answer) if isinstance(answer, dict) else list(answer)
    copy[path[0]] = value if len(path) == 1 else _replaced(copy[path[0]], path[1:], value)
    return copy
