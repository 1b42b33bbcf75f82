"""#22 item 1: a runtime directory someone else made (or opened to others) is never used."""

import os
from pathlib import Path

from symposium_tui.core.fsutil import private_dir
from symposium_tui.backends.podman.service import PodmanService


def test_a_directory_of_ones_own_is_made_and_used(tmp_path):
    path = tmp_path / "run" / "symposium-tui-0"
    assert private_dir(path)
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o700


def test_an_open_a_foreign_or_a_linked_directory_is_refused(tmp_path):
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    assert not private_dir(open_to_all)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert not private_dir(link)  # a link, even to a private directory
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    if os.geteuid() == 0:  # the case of the review: root, /tmp/symposium-tui-0 made by another user
        os.chown(foreign, 65534, 65534)
        assert not private_dir(foreign)
    else:
        assert private_dir(foreign)  # one's own stays usable


def test_the_embedded_service_puts_its_socket_and_config_elsewhere_then(tmp_path):
    hostile = tmp_path / "symposium-tui-0"
    hostile.mkdir()
    hostile.chmod(0o777)
    service = PodmanService("podman", parent_dir=hostile)
    try:
        assert hostile not in service.socket_dir.parents
        assert (service.socket_dir.stat().st_mode & 0o777) == 0o700
    finally:
        service.stop()
    mine = tmp_path / "mine"
    service = PodmanService("podman", parent_dir=mine)
    try:
        assert service.socket_dir.parent == mine and Path(mine).stat().st_mode & 0o077 == 0
    finally:
        service.stop()
