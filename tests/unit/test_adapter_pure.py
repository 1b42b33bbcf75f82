from datetime import datetime, timezone

from symposium_tui.core.models import ContainerState
from symposium_tui.backends.podman.normalize import container_from_list, container_state, parse_time


def test_parse_time_handles_podmans_shapes():
    assert parse_time(0) is None
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time(1700000000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    nano = parse_time("2026-11-28T05:30:00.123456789Z")
    assert nano == datetime(2026, 11, 28, 5, 30, 0, 123456, tzinfo=timezone.utc)
    offset = parse_time("2026-11-28T05:30:00.5+01:00")
    assert offset is not None and offset.utcoffset().total_seconds() == 3600
    assert parse_time("not a time") is None


def test_state_is_a_string_on_4x_lists_and_a_dict_on_inspect():
    assert container_state({"State": "running"}) is ContainerState.RUNNING
    assert container_state({"State": {"Status": "exited"}}) is ContainerState.EXITED
    assert container_state({"State": "bogus"}) is ContainerState.UNKNOWN
    assert container_state({}) is ContainerState.UNKNOWN


def test_ports_in_libpod_list_shape_with_ranges():
    info = container_from_list({
        "Id": "abc", "Names": ["x"], "State": "running",
        "Ports": [{"host_ip": "127.0.0.1", "container_port": 2222, "host_port": 40000,
                   "range": 2, "protocol": "tcp"}],
    })
    assert [(p.container_port, p.host_port) for p in info.ports] == [(2222, 40000), (2223, 40001)]
    assert info.ports[0].host_ip == "127.0.0.1"


def test_a_container_that_died_is_exited_whether_or_not_podman_has_cleaned_it_up_yet():
    """podman reports "stopped" until its cleanup of the dead process has run, then "exited"."""
    for shape in ({"State": "stopped"}, {"State": {"Status": "stopped"}}, {"State": "Exited"}):
        assert container_state(shape) is ContainerState.EXITED
    assert "stopped" not in {state.value for state in ContainerState}


def test_engine_answers_reach_a_person_as_one_readable_line():
    from symposium_tui.backends.podman.normalize import MAX_MESSAGE, readable

    body = ('{"cause":"invalid argument","message":"failed to write \\"200000\\": write /sys/fs/cgroup/cpu/'
            'x/cpu.cfs_quota_us: invalid argument: OCI runtime error","response":500}')
    assert readable(body) == ('failed to write "200000": write /sys/fs/cgroup/cpu/x/cpu.cfs_quota_us: '
                              'invalid argument: OCI runtime error')
    report = '{"Id": "abc", "Errs": [{"Err": "container dev: cannot start"}, "second\\nline"]}'
    assert readable(report) == "container dev: cannot start; second line"
    long = readable("x" * 5000 + "\x1b[31m")
    assert len(long) == MAX_MESSAGE and long.endswith("…") and "\x1b" not in readable("a\x1b[31mb")
    assert readable("plain\n  words ") == "plain words"


def test_a_tree_thousands_of_levels_deep_is_measured_without_recursion(tmp_path):
    """os.walk recursed (RecursionError at ~1,000 levels on Python 3.11) and stopped ls, health
    and the poller for every taskspace."""
    import os

    from symposium_tui.backends.podman.diskuse import tree_size

    here = str(tmp_path / "deep")
    os.mkdir(here)
    fd = os.open(here, os.O_RDONLY)
    try:
        for _ in range(1500):  # relative steps: the absolute path would be too long for the kernel
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as out:
            out.write(b"x" * 8192)
    finally:
        os.close(fd)
    (tmp_path / "deep" / "link").symlink_to("/")  # never followed
    try:
        size = tree_size(str(tmp_path / "deep"))
        assert size >= 8192 + 1500 * 4096
        assert tree_size(str(tmp_path / "deep"), budget=10) < size  # and the budget holds
    finally:
        _remove_deep(str(tmp_path / "deep"))  # shutil.rmtree (pytest's clean-up) recurses too


def _remove_deep(top: str) -> None:
    import os

    fds = [os.open(top, os.O_RDONLY)]
    try:
        while "d" in os.listdir(fds[-1]):
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        while fds:
            fd = fds.pop()
            for name in os.listdir(fd):
                if name != "d":
                    os.unlink(name, dir_fd=fd)
            if fds:
                os.rmdir("d", dir_fd=fds[-1])
            os.close(fd)
    finally:
        for fd in fds:
            os.close(fd)
    os.rmdir(top)
