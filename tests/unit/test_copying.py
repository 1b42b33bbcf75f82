"""cp's local side: a tar that came out of a container (untrusted) unpacked here, and the tar of a
local path sent in."""

import io
import os
import tarfile

import pytest

from symposium_tui.core.copying import pack, parse_endpoint, unpack
from symposium_tui.core.errors import UsageError


def tar_of(*members: tuple[str, str, bytes | str]) -> io.BytesIO:
    """(kind, name, data or link target): kind file, dir, sym, hard, fifo, dev."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kind, name, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(extra)
                info.mode = 0o4755  # set-uid: must not survive
                tar.addfile(info, io.BytesIO(extra))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE, "dev": tarfile.CHRTYPE}[kind]
            info.linkname = extra if isinstance(extra, str) else ""
            info.mode = 0o755
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def test_a_folder_comes_out_under_its_new_name(tmp_path):
    copied = unpack(tar_of(("dir", "tree", b""), ("file", "tree/a", b"A"), ("sym", "tree/b", "a"),
                           ("hard", "tree/c", "tree/a")), tmp_path, "renamed")
    assert (tmp_path / "renamed" / "a").read_bytes() == b"A"
    assert os.readlink(tmp_path / "renamed" / "b") == "a"
    assert (tmp_path / "renamed" / "c").read_bytes() == b"A"
    assert not (tmp_path / "renamed" / "a").stat().st_mode & 0o4000  # no set-uid here
    assert (copied.files, copied.folders, copied.links, copied.bytes, copied.skipped) == (1, 1, 2, 1, [])


@pytest.mark.parametrize("members, left_out", [
    ((("dir", "t", b""), ("sym", "t/l", "/etc/passwd")), "t/l"),
    ((("dir", "t", b""), ("sym", "t/l", "../../outside")), "t/l"),
    ((("dir", "t", b""), ("hard", "t/h", "etc/passwd")), "t/h"),
    ((("dir", "t", b""), ("file", "t/../../escape", b"x")), "escape"),
    ((("dir", "t", b""), ("file", "/abs", b"x")), "/abs"),
    ((("dir", "t", b""), ("file", "other/x", b"x")), "other/x"),  # a second top entry
    ((("dir", "t", b""), ("fifo", "t/pipe", b"")), "t/pipe"),
    ((("dir", "t", b""), ("dev", "t/null", b"")), "t/null"),
])
def test_what_would_leave_the_copy_is_left_out_and_said(tmp_path, members, left_out):
    dest = tmp_path / "dest"
    dest.mkdir()
    copied = unpack(tar_of(*members), dest, "t")
    assert len(copied.skipped) == 1, copied.skipped
    assert left_out.split("/")[-1] in copied.skipped[0]
    assert not os.path.lexists(tmp_path / "escape") and not os.path.lexists(tmp_path / "outside")
    assert sorted(p.name for p in dest.rglob("*")) == ["t"]


def test_nothing_is_written_through_a_link_already_here(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    (dest / "t").mkdir(parents=True)
    (dest / "t" / "sub").symlink_to(outside)  # left by someone, pointing out
    (dest / "t" / "file").symlink_to(outside / "victim")
    copied = unpack(tar_of(("dir", "t", b""), ("dir", "t/sub", b""), ("file", "t/sub/x", b"x"),
                           ("file", "t/file", b"new")), dest, "t")
    assert list(outside.iterdir()) == []  # neither through the folder link nor the file link
    assert any("t/sub/x" in s and "a link on this machine" in s for s in copied.skipped), copied.skipped
    assert (dest / "t" / "file").read_bytes() == b"new" and not (dest / "t" / "file").is_symlink()


def test_pack_owns_it_to_the_user_and_leaves_out_special_files(tmp_path):
    source = tmp_path / "src"
    (source / "d").mkdir(parents=True)
    (source / "d" / "f").write_text("f")
    os.chmod(source / "d" / "f", 0o4755)
    (source / "link").symlink_to("d/f")
    os.mkfifo(source / "pipe")
    body, copied = pack(source, "named", 1000)
    with tarfile.open(fileobj=body) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"named", "named/d", "named/d/f", "named/link"}
    assert all(m.uid == 1000 and m.gid == 1000 and not m.mode & 0o7000 for m in members.values())
    assert members["named/link"].issym() and members["named/link"].linkname == "d/f"
    assert copied.files == 1 and copied.links == 1 and any("pipe" in s for s in copied.skipped)


def test_endpoints():
    assert parse_endpoint("fix:notes/").folder and not parse_endpoint("fix:notes").folder
    with pytest.raises(UsageError):
        parse_endpoint("Bad_Id:x")
    with pytest.raises(UsageError):
        parse_endpoint("fix:a\x1bb")
    with pytest.raises(UsageError):
        parse_endpoint("")


def test_an_absolute_link_inside_what_was_copied_is_kept_made_relative(tmp_path):
    copied = unpack(tar_of(("dir", "tree", b""), ("file", "tree/f", b"F"), ("dir", "tree/d", b""),
                           ("sym", "tree/d/abs", "/workspace/tree/f"), ("sym", "tree/out", "/workspace/other")),
                    tmp_path, "copy", "/workspace/tree")
    assert os.readlink(tmp_path / "copy" / "d" / "abs") == "../f"
    assert (tmp_path / "copy" / "d" / "abs").read_bytes() == b"F"
    assert not os.path.lexists(tmp_path / "copy" / "out")
    assert len(copied.skipped) == 1 and "/workspace/other" in copied.skipped[0]
